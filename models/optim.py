"""Adam over stacked ensemble parameters, with beta1 = 0 allowed.

The reference trains every discriminator with torch.optim.Adam(lr_i,
betas=(0, 0.99)).  MindSpore's nn.Adam rejects beta1 = 0 and takes one
learning rate, so this is the same update written with ops: PyTorch's
formula (bias-corrected, eps added to the corrected root), with a learning
rate that may be a tensor broadcasting over the leading member axis.
"""
import numpy as np
from mindspore import nn, ops, Parameter, ParameterTuple, Tensor
from mindspore import dtype as mstype

ADAM_BETAS = (0.0, 0.99)
ADAM_EPS = 1e-8


class StackedAdam(nn.Cell):
    """Adam(params, lr, betas, eps); lr is a float or an array shaped like (members, 1, 1).

    `name` keeps the state's parameter names unique when two optimizers live
    in one process.
    """

    def __init__(self, params, lr, name, betas=ADAM_BETAS, eps=ADAM_EPS):
        super().__init__()
        self.params = ParameterTuple(params)
        self.exp_avg = self.params.clone(prefix=f"{name}.exp_avg", init="zeros")
        self.exp_avg_sq = self.params.clone(prefix=f"{name}.exp_avg_sq", init="zeros")
        self.lr = Tensor(np.asarray(lr, dtype=np.float32))
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.step = Parameter(Tensor(0.0, mstype.float32), name=f"{name}.step",
                              requires_grad=False)

    def construct(self, grads):
        step = self.step + 1.0
        ops.assign(self.step, step)
        step_size = self.lr / (1.0 - self.beta1 ** step)
        root_correction = ops.sqrt(1.0 - self.beta2 ** step)
        done = ()
        for param, avg, avg_sq, grad in zip(self.params, self.exp_avg, self.exp_avg_sq, grads):
            new_avg = self.beta1 * avg + (1.0 - self.beta1) * grad
            new_avg_sq = self.beta2 * avg_sq + (1.0 - self.beta2) * grad * grad
            update = step_size * new_avg / (ops.sqrt(new_avg_sq) / root_correction + self.eps)
            done = done + (ops.assign(avg, new_avg), ops.assign(avg_sq, new_avg_sq),
                           ops.assign(param, param - update))
        return done

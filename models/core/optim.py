"""Adam over stacked ensemble parameters, with beta1 = 0 allowed.

The reference trains every discriminator with torch.optim.Adam(lr_i,
betas=(0, 0.99)).  MindSpore's nn.Adam rejects beta1 = 0 and takes one
learning rate, so this is the same update written with ops: PyTorch's
formula (bias-corrected, eps added to the corrected root) with one learning
rate per member.

All gradients are flattened into one (members, n) matrix and updated with a
dozen operations instead of a dozen per parameter: these networks are small
enough that the number of kernel launches, not arithmetic, sets the cost.
"""
import numpy as np
from mindspore import nn, ops, Parameter, ParameterTuple, Tensor
from mindspore import dtype as mstype

ADAM_BETAS = (0.0, 0.99)
ADAM_EPS = 1e-8


class StackedAdam(nn.Cell):
    """Adam(params, lr, betas, eps) where lr is a float or one rate per member.

    With per-member rates every parameter must have the member axis first.
    `name` keeps the state's parameter names unique when two optimizers live
    in one graph.  `reduce`, a cell or None, maps the (members, n) gradient
    matrix before the update: data-parallel training averages it over the
    workers there, one collective for all of a network's gradients.
    """

    def __init__(self, params, lr, name, betas=ADAM_BETAS, eps=ADAM_EPS, reduce=None):
        super().__init__()
        self.reduce = reduce
        self.params = ParameterTuple(params)
        rates = np.atleast_1d(np.asarray(lr, dtype=np.float32))
        self.members = len(rates)
        # A parameter, not a constant folded into the graph: a compiled step can then
        # train another fit of the same shapes with other rates (reset()).
        self.lr = Parameter(Tensor(rates.reshape(-1, 1)), name=f"{name}.lr", requires_grad=False)
        self.shapes = tuple(p.shape for p in self.params)
        self.sizes = tuple(int(np.prod(s)) // self.members for s in self.shapes)
        state = np.zeros((self.members, sum(self.sizes)), dtype=np.float32)
        self.exp_avg = Parameter(Tensor(state), name=f"{name}.exp_avg", requires_grad=False)
        self.exp_avg_sq = Parameter(Tensor(state), name=f"{name}.exp_avg_sq", requires_grad=False)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.step = Parameter(Tensor(0.0, mstype.float32), name=f"{name}.step",
                              requires_grad=False)

    def reset(self, lr):
        """Start again from step 0 with rates `lr` (one per member, or one for all)."""
        rates = np.broadcast_to(np.asarray(lr, dtype=np.float32).reshape(-1, 1), self.lr.shape)
        self.lr.set_data(Tensor(np.ascontiguousarray(rates)))
        zeros = np.zeros(self.exp_avg.shape, dtype=np.float32)
        self.exp_avg.set_data(Tensor(zeros))
        self.exp_avg_sq.set_data(Tensor(zeros.copy()))
        self.step.set_data(Tensor(0.0, mstype.float32))

    def construct(self, grads):
        grad = ops.concat([g.reshape(self.members, -1) for g in grads], 1)
        if self.reduce is not None:   # resolved when the graph compiles
            grad = self.reduce(grad)
        step = self.step + 1.0
        if self.beta1 == 0.0:
            # The same numbers with six kernels fewer: 0 * m + 1 * g is g, and the bias
            # correction 1 - 0^t is 1 (EAL-GAN's betas; kernel launches set the step's cost).
            new_avg, step_size = grad, self.lr
        else:
            new_avg = self.beta1 * self.exp_avg + (1.0 - self.beta1) * grad
            step_size = self.lr / (1.0 - ops.pow(self.beta1, step))
        new_avg_sq = self.beta2 * self.exp_avg_sq + (1.0 - self.beta2) * grad * grad
        root_correction = ops.sqrt(1.0 - ops.pow(self.beta2, step))
        update = step_size * new_avg / (ops.sqrt(new_avg_sq) / root_correction + self.eps)
        done = (ops.assign(self.step, step), ops.assign(self.exp_avg, new_avg),
                ops.assign(self.exp_avg_sq, new_avg_sq))
        for param, piece, shape in zip(self.params, ops.split(update, self.sizes, 1),
                                       self.shapes):
            done = done + (ops.assign_sub(param, piece.reshape(shape)),)   # one kernel
        return done

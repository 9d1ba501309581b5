"""Generator and discriminator ensemble of EAL-GAN (docs/design.md section 2).

Every Dense weight carries a leading member axis, shape (members, in, out),
so the ten discriminators run as batched matmuls in one graph and share one
optimizer step.  The generator is the one-member case of the same layer.
Initial values are drawn with NumPy from the caller's generator, which makes
them independent of the device and of MindSpore's own random state.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor

INIT_TYPES = ("N02", "ortho", "xavier")
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
N_CLASSES = 2


def _orthogonal(rng, rows, cols):
    a = rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    return q if rows >= cols else q.T


def init_weight(rng, init_type, members, fan_in, fan_out):
    """(members, fan_in, fan_out) weights for the three schemes of the reference."""
    shape = (members, fan_in, fan_out)
    if init_type == "N02":
        return rng.normal(0.0, 0.02, shape)
    if init_type == "xavier":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape)
    if init_type == "ortho":
        return np.stack([_orthogonal(rng, fan_in, fan_out) for _ in range(members)])
    raise ValueError(f"unknown init_type {init_type!r}; choose one of {', '.join(INIT_TYPES)}")


def _l2_normalize(x):
    return x / (ops.norm(x, dim=-1, keepdim=True) + 1e-12)


def _parameter(values, name, requires_grad=True):
    return Parameter(Tensor(np.asarray(values, dtype=np.float32)), name=name,
                     requires_grad=requires_grad)


class _AffineOp(nn.Cell):
    """x @ w + b with its gradient written out as matmuls.

    MindSpore's CPU kernels reduce over the batch axis several times slower
    than they multiply matrices, so the bias gradient is ones @ dout and the
    weight gradient a transposed batched matmul; this roughly halves the
    backward pass of these small networks.
    """

    def __init__(self):
        super().__init__()
        self.matmul_ta = ops.BatchMatMul(transpose_a=True)

    def construct(self, x, w, b):
        if x.ndim == 2 and w.shape[0] == 1:  # one member: a plain matmul, no broadcast copy
            return (ops.matmul(x, w.reshape(w.shape[1:])) + b.reshape(b.shape[1:])).expand_dims(0)
        return ops.matmul(x, w) + b

    def bprop(self, x, w, b, out, dout):
        ones = ops.ones((1, dout.shape[1]), dout.dtype)
        if x.ndim == 2 and w.shape[0] == 1:
            grad, weight = dout.reshape(dout.shape[1:]), w.reshape(w.shape[1:])
            return (ops.matmul(grad, weight.T), ops.matmul(x.T, grad).expand_dims(0),
                    ops.matmul(ones, grad).expand_dims(0))
        dx = ops.matmul(dout, w.swapaxes(1, 2))
        if x.ndim == 2:  # one input shared by every member
            return dx.sum(0), ops.matmul(x.T, dout), ops.matmul(ones, dout)
        return dx, self.matmul_ta(x, dout), ops.matmul(ones, dout)


class StackedDense(nn.Cell):
    """x @ W + b for `members` independent layers, with optional spectral norm.

    x is (batch, in) (shared by all members) or (members, batch, in); the
    result is (members, batch, out).  Biases start as PyTorch's Linear does,
    U(-1/sqrt(in), 1/sqrt(in)), as in the reference implementation.
    """

    def __init__(self, rng, members, fan_in, fan_out, init_type, spectral_norm):
        super().__init__()
        bound = 1.0 / np.sqrt(fan_in)
        self.weight = _parameter(init_weight(rng, init_type, members, fan_in, fan_out), "weight")
        self.bias = _parameter(rng.uniform(-bound, bound, (members, 1, fan_out)), "bias")
        self.spectral_norm = spectral_norm
        if spectral_norm:
            u = rng.normal(size=(members, 1, fan_out))
            u /= np.linalg.norm(u, axis=-1, keepdims=True)
            self.u = _parameter(u, "u", requires_grad=False)
        self.affine = _AffineOp()

    def _power_step(self):
        """One power iteration from the stored u: (v, W v-direction output)."""
        v = ops.stop_gradient(_l2_normalize(ops.matmul(self.u, self.weight.swapaxes(1, 2))))
        return v, ops.matmul(v, self.weight)

    def effective_weight(self):
        if not self.spectral_norm:
            return self.weight
        _, vw = self._power_step()
        # sigma = ||v W|| equals v W u'^T for u' = normalize(v W): BigGAN's estimate.
        sigma = ops.norm(vw, dim=-1, keepdim=True)
        return self.weight / sigma

    def next_u(self):
        """The power-iteration update of u, to store after a training step."""
        _, vw = self._power_step()
        return ops.stop_gradient(_l2_normalize(vw))

    def construct(self, x):
        return self.affine(x, self.effective_weight(), self.bias)


class _SpectralState(nn.Cell):
    """Spectral-norm bookkeeping shared by both networks.

    A training step first advances u by one power iteration from the current
    weights (`advance_spectral_state`) and then runs its forward pass, which
    estimates sigma = ||normalize(u W^T) W|| from that u; scoring uses the
    stored u without advancing it.
    """

    def advance_spectral_state(self):
        done = ()
        for layer in self.dense_layers:
            if layer.spectral_norm:
                done = done + (ops.assign(layer.u, layer.next_u()),)
        return done


class Generator(_SpectralState):
    """G(z, y): [z, embed(y)] -> Dense(h) -> ReLU -> gen_layer x [Dense(h) -> ReLU] -> Dense(d).

    spectral_norm_hidden=False leaves the gen_layer hidden-to-hidden layers
    plain, as the authors' code does (their middle layers are nn.Linear even
    with SN_used).
    """

    def __init__(self, rng, n_features, dim_z, hidden_layers, init_type, spectral_norm,
                 spectral_norm_hidden=True):
        super().__init__()
        hidden = 2 * n_features
        embed_dim = dim_z // 2
        self.embed = _parameter(init_weight(rng, init_type, 1, N_CLASSES, embed_dim)[0], "embed")
        sizes = [dim_z + embed_dim] + [hidden] * (hidden_layers + 1) + [n_features]
        outer = (0, len(sizes) - 2)
        self.dense_layers = nn.CellList([
            StackedDense(rng, 1, fan_in, fan_out, init_type,
                         spectral_norm and (i in outer or spectral_norm_hidden))
            for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]))])
        self.relu = nn.ReLU()

    def construct(self, z, y):
        h = ops.concat((z, ops.gather(self.embed, y, 0)), 1)
        last = len(self.dense_layers) - 1
        for i, layer in enumerate(self.dense_layers):
            h = layer(h)
            if i < last:
                h = self.relu(h)
        return h.reshape(h.shape[1:])


class DiscriminatorEnsemble(_SpectralState):
    """E discriminators D_i sharing nothing but the input.

    Trunk phi_i(x) = Dense(h) -> ReLU -> dis_layer x [Dense(h) -> act]; heads:
    adversarial a_i(x, y) = Dense_1(phi) + <embed_i(y), phi> (class projection)
    and auxiliary anomaly logit Dense_1(phi), whose sigmoid is P(anomaly).
    """

    def __init__(self, rng, n_features, members, hidden_layers, activation, init_type,
                 spectral_norm):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown dis_activation_func {activation!r}; "
                             f"choose one of {', '.join(ACTIVATIONS)}")
        hidden = 2 * n_features
        sizes = [n_features] + [hidden] * (hidden_layers + 1)
        # Trunk layers, then the adversarial head, then the anomaly head.
        shapes = list(zip(sizes[:-1], sizes[1:])) + [(hidden, 1), (hidden, 1)]
        self.dense_layers = nn.CellList([
            StackedDense(rng, members, fan_in, fan_out, init_type, spectral_norm)
            for fan_in, fan_out in shapes])
        self.n_trunk = len(sizes) - 1
        self.embed = _parameter(init_weight(rng, init_type, members, N_CLASSES, hidden), "embed")
        self.relu = nn.ReLU()
        self.activation = ACTIVATIONS[activation]()
        self.on_value = Tensor(1.0, ms.float32)
        self.off_value = Tensor(0.0, ms.float32)

    def features(self, x):
        """phi(x) for every member: (members, batch, hidden)."""
        h = self.relu(self.dense_layers[0](x))
        for i in range(1, self.n_trunk):
            h = self.activation(self.dense_layers[i](h))
        return h

    def anomaly_logits(self, x):
        """Auxiliary-head logits, (members, batch)."""
        return self.dense_layers[self.n_trunk + 1](self.features(x)).squeeze(-1)

    def construct(self, x, y):
        """Adversarial and anomaly logits, each (members, batch)."""
        h = self.features(x)
        adversarial_head = self.dense_layers[self.n_trunk]
        # Dense_1(phi) + <embed(y), phi> = <w + embed(y), phi> + b: one matmul
        # against both classes, then pick each row's class (a reduction over
        # the hidden axis would cost several times more on CPU).
        per_class = ops.matmul(h, adversarial_head.effective_weight() + self.embed.swapaxes(1, 2))
        one_hot = ops.one_hot(y, N_CLASSES, self.on_value, self.off_value)
        adversarial = (per_class * one_hot).sum(-1) + adversarial_head.bias.squeeze(-1)
        return adversarial, self.dense_layers[self.n_trunk + 1](h).squeeze(-1)


def ensemble_score(discriminators, x):
    """s(x) = mean_i sigmoid(c_i(x)): the anomaly score, (batch,)."""
    return ops.sigmoid(discriminators.anomaly_logits(x)).mean(0)


class EALGANNetworks(nn.Cell):
    """Generator and discriminators under fixed names (generator.*, discriminators.*).

    Calling it scores rows: the compiled inference graph.
    """

    def __init__(self, generator, discriminators):
        super().__init__()
        self.generator = generator
        self.discriminators = discriminators

    def construct(self, x):
        return ensemble_score(self.discriminators, x)

"""Mini-batch SGD with weight decay for many Chen et al. networks as one batched tensor program.

Chen, Yi, Yang (2024), Eq. 9 [R+, notes A.6], with the batch loss of Eq. 8 [R+, notes A.5]

.. math::
    L_S = \\frac1B \\sum_{j\\in S} (f(x_j) - y_j)^2 + \\frac{\\mu_V}{2}\\|V\\|_F^2
          + \\frac{\\mu_a}{2}\\|a\\|^2 + \\frac{\\mu_b}{2}\\|b\\|^2,

    V \\leftarrow V - \\eta\\Big(\\frac{1}{B}\\sum_{j\\in S} u_j x_j^\\top + \\mu_V V\\Big), \\qquad
    u_j = 2 (f(x_j) - y_j)\\,(a^\\top \\odot 1[V x_j + b > 0])

and likewise for a and b, computed as ``torch.optim.SGD(weight_decay=mu)`` computes it in the
parameters' dtype: the decay is folded into the gradient, :math:`d = \\nabla + \\mu\\theta`, then
:math:`\\theta \\leftarrow \\theta - \\eta d`. The factor :math:`1 - \\eta\\mu` is never formed (in
float32 it is exactly 1 for :math:`\\eta\\mu < 2^{-25}`; see :mod:`numerics.training.decay`). Whether the paper decays a and b is [N]; the default
:math:`\\mu_a = \\mu_b = \\mu_V` is what ``torch.optim.SGD(weight_decay=mu)`` on all parameters does.

The gradients are in closed form (Lemma 2.2) and computed for all M models with batched
products over the model dimension, with three buffers of size M x B x m and M x (n+1) x m
reused across steps. Writing :math:`W = [V^\\top; b^\\top]` (n+1 by m) and
:math:`\\tilde x = (x, 1)`, with mask :math:`D_{jk} = 1[z_{jk} > 0]`, residual
coefficients :math:`c_j = 2 (f(x_j) - y_j) / B`, and :math:`G = \\tilde X_c^\\top D` where
:math:`\\tilde X_c` has rows :math:`c_j \\tilde x_j`:

* :math:`\\nabla_W L = G\\,\\mathrm{diag}(a)` (one product, no M x B x m temporary of u_j);
* :math:`\\nabla_{a_k} L = \\sum_j c_j\\,\\mathrm{relu}(z_{jk}) = \\sum_i W_{ik} G_{ik}`, a column-wise
  dot product of size (n+1) m instead of a second pass over the B x m activations.

The mask reuses the activation buffer (``relu_`` then ``sign_``). A model's arithmetic does not
depend on the others in the group (every product is per model).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from numerics.models import BatchedTwoLayerReLU
from numerics.training.tensors import GroupTensors

ACCURACY_RULE = "class = round(f(x)) (half to even) clipped to 0..classes-1; accuracy = mean(class == label)"


class TwoLayerSGD:
    """Eq. 9 SGD for M two-layer networks; per-model decays ``mu_v``, ``mu_a``, ``mu_b`` (each (M,)).

    ``classes``: when the scalar targets are class labels 0..classes-1 (MNIST read as
    regression), :meth:`evaluate` also reports accuracy under :data:`ACCURACY_RULE`.
    """

    def __init__(
        self,
        model: BatchedTwoLayerReLU,
        data: GroupTensors,
        mu_v: Tensor,
        mu_a: Tensor,
        mu_b: Tensor,
        classes: int | None = None,
    ) -> None:
        self.model = model
        self.data = data
        self.device = model.a.device
        self.decays = torch.stack([mu_v, mu_a, mu_b], dim=1).to(model.a)
        self.classes = classes
        ones = torch.ones(len(data.x_train), 1, dtype=data.x_train.dtype, device=self.device)
        self.x_aug = torch.cat([data.x_train, ones], dim=1)
        self._buffers: dict[str, Tensor] = {}

    def _buffer(self, name: str, shape: tuple[int, ...]) -> Tensor:
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = self._buffers[name] = torch.empty(shape, dtype=self.model.a.dtype, device=self.device)
        return buffer

    def set_learning_rates(self, lr: Tensor) -> None:
        lr = lr.to(self.model.a)
        inputs = self.model.hidden.shape[1] - 1
        mu_v, mu_a, mu_b = self.decays.unbind(dim=1)
        self._hidden_mu = torch.cat([mu_v[:, None].expand(-1, inputs), mu_b[:, None]], dim=1).unsqueeze(2)  # (M, n+1, 1)
        self._a_mu = mu_a[:, None]
        self._neg_lr = -lr[:, None]

    def step(self, batch: Tensor) -> Tensor:
        models, size = batch.shape
        hidden, a = self.model.hidden, self.model.a
        x = self.x_aug[batch]  # (M, B, n+1), a fresh gather
        z = torch.bmm(x, hidden, out=self._buffer("z", (models, size, hidden.shape[2]))).relu_()
        residual = torch.bmm(a.unsqueeze(1), z.transpose(1, 2)).squeeze(1).sub_(torch.gather(self.data.y_train, 1, batch))
        loss = residual.square().mean(dim=1)
        coefficients = residual.mul_(2.0 / size)
        mask = z.sign_()
        gradient = torch.bmm(x.mul_(coefficients.unsqueeze(2)).transpose(1, 2), mask, out=self._buffer("g", hidden.shape))
        direction_a = torch.linalg.vecdot(hidden, gradient, dim=1).addcmul_(a, self._a_mu)
        direction = gradient.mul_(a.unsqueeze(1)).addcmul_(hidden, self._hidden_mu)
        hidden.addcmul_(direction, self._neg_lr.unsqueeze(2))
        a.addcmul_(direction_a, self._neg_lr)
        return loss

    def _metrics(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        outputs = self.model.forward(x)
        metrics = {"mse": (outputs - y).square().mean(dim=1)}
        if self.classes is not None:
            predicted = outputs.round().clamp_(0, self.classes - 1)
            metrics["accuracy"] = (predicted == y).to(outputs.dtype).mean(dim=1)
        return metrics

    def evaluate(self) -> dict[str, dict[str, Tensor]]:
        return self.data.evaluate(self._metrics)

    def select(self, keep: Tensor) -> None:
        self.model = self.model.select(keep)
        self.data.select(keep)
        self.decays = self.decays[keep]

    def state(self) -> dict[str, np.ndarray]:
        return {"a": self.model.a.cpu().numpy().copy(), "hidden": self.model.hidden.cpu().numpy().copy()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.model.a.copy_(torch.as_tensor(state["a"]))
        self.model.hidden.copy_(torch.as_tensor(state["hidden"]))

    def model_weights(self, index: int) -> dict[str, np.ndarray]:
        return self.model.arrays(index)

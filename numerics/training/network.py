"""(Mini-)batch gradient descent with weight decay for many MLPs at once, by autograd.

Used for the deep ReLU MLPs of the Ledent et al. experiments (mini-batch SGD, cross-entropy
or square loss, with or without weight decay) and for Oymak et al.'s model (full-batch
gradient descent on :math:`\\mathcal L(W) = \\tfrac12\\|f(W) - y\\|_2^2`, Eqs. 1.2-1.5 [C, notes
B.1], one-hot labels, the output layer V fixed).

The M models' losses are summed before one backward pass; since no parameter is shared,
each model receives exactly its own gradient. The update is PyTorch's SGD with weight decay,
computed as ``torch.optim.SGD(weight_decay=mu)`` computes it in the parameters' dtype,
:math:`d = \\nabla L_S(\\theta) + \\mu\\theta`, :math:`\\theta \\leftarrow \\theta - \\eta d`, applied to every
trained weight and bias (the factor :math:`1 - \\eta\\mu` is never formed: see
:mod:`numerics.training.decay`). Losses of a batch S of size B with K outputs and one-hot :math:`e_{y_j}`:

* ``cross_entropy``: :math:`\\frac1B\\sum_{j} -\\log \\mathrm{softmax}(f(x_j))_{y_j}`;
* ``square``: :math:`\\frac1B\\sum_{j} \\|f(x_j) - e_{y_j}\\|_2^2`;
* ``half_sum_square``: :math:`\\tfrac12\\sum_{j} \\|f(x_j) - e_{y_j}\\|_2^2` (Oymak et al.; no 1/B).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from numerics.models import BatchedMLP
from numerics.training.tensors import GroupTensors

LOSSES = ("cross_entropy", "square", "half_sum_square")
ACCURACY_RULE = "class = argmax_k f_k(x) (Oymak et al. Eq. 2.1); accuracy = mean(class == label)"


def batched_loss(name: str, outputs: Tensor, labels: Tensor) -> Tensor:
    """Per-model loss (M,) of outputs (M, B, K) against integer labels (M, B)."""
    if name == "cross_entropy":
        per_sample = F.cross_entropy(outputs.flatten(0, 1), labels.flatten(), reduction="none")
        return per_sample.view(labels.shape).mean(dim=1)
    squared = (outputs - F.one_hot(labels, outputs.shape[2]).to(outputs)).square().sum(dim=2)
    if name == "square":
        return squared.mean(dim=1)
    if name == "half_sum_square":
        return 0.5 * squared.sum(dim=1)
    raise ValueError(f"loss={name!r} violates loss in {LOSSES}")


class NetworkSGD:
    """Gradient steps for a :class:`BatchedMLP`; ``weight_decay`` is (M,), ``frozen`` lists fixed layers."""

    def __init__(
        self,
        model: BatchedMLP,
        data: GroupTensors,
        weight_decay: Tensor,
        loss: str,
        frozen: Sequence[int] = (),
        names: Sequence[str] | None = None,
    ) -> None:
        if loss not in LOSSES:
            raise ValueError(f"loss={loss!r} violates loss in {LOSSES}")
        self.model = model
        self.data = data
        self.device = model.weights[0].device
        self.weight_decay = weight_decay.to(model.weights[0])
        self.loss = loss
        self.frozen = tuple(frozen)
        self.names = list(names) if names is not None else [f"A{index + 1}" for index in range(len(model.weights))]
        self._track_gradients()

    def _trained(self) -> list[Tensor]:
        weights = [w for index, w in enumerate(self.model.weights) if index not in self.frozen]
        return weights + (self.model.biases or [])

    def _track_gradients(self) -> None:
        for tensor in self._trained():
            tensor.requires_grad_(True)

    def set_learning_rates(self, lr: Tensor) -> None:
        self._neg_lr = -lr.to(self.model.weights[0])

    def step(self, batch: Tensor) -> Tensor:
        x = self.data.x_train[batch]
        labels = torch.gather(self.data.y_train, 1, batch)
        losses = batched_loss(self.loss, self.model.forward(x), labels)
        parameters = self._trained()
        gradients = torch.autograd.grad(losses.sum(), parameters)
        with torch.no_grad():
            for parameter, gradient in zip(parameters, gradients):
                shape = (-1,) + (1,) * (parameter.dim() - 1)
                direction = gradient.addcmul(parameter, self.weight_decay.view(shape))
                parameter.addcmul_(direction, self._neg_lr.view(shape))
        return losses.detach()

    @torch.no_grad()
    def _metrics(self, x: Tensor, labels: Tensor) -> dict[str, Tensor]:
        outputs = self.model.predict(x)
        labels = labels.expand(outputs.shape[0], -1)
        correct = (outputs.argmax(dim=2) == labels).to(outputs.dtype)
        return {"loss": batched_loss(self.loss, outputs, labels), "accuracy": correct.mean(dim=1)}

    def evaluate(self) -> dict[str, dict[str, Tensor]]:
        return self.data.evaluate(self._metrics)

    def select(self, keep: Tensor) -> None:
        self.model = self.model.select(keep)
        self.data.select(keep)
        self.weight_decay = self.weight_decay[keep]
        self._track_gradients()

    def state(self) -> dict[str, np.ndarray]:
        tensors = self.model.weights + (self.model.biases or [])
        return {f"tensor{index}": tensor.detach().cpu().numpy().copy() for index, tensor in enumerate(tensors)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for index, tensor in enumerate(self.model.weights + (self.model.biases or [])):
                tensor.copy_(torch.as_tensor(state[f"tensor{index}"]))

    def model_weights(self, index: int) -> dict[str, np.ndarray]:
        weights = {name: w[index].detach().cpu().numpy().copy() for name, w in zip(self.names, self.model.weights)}
        for layer, bias in enumerate(self.model.biases or []):
            weights[f"c{layer + 1}"] = bias[index].detach().cpu().numpy().copy()
        return weights

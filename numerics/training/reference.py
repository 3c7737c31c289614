"""Plain per-model training loops with ``torch.optim.SGD``: the yardsticks of the batched trainers.

:func:`train_two_layer_reference` for Chen et al.'s network, :func:`train_mlp_reference` for the
deep ReLU MLPs; the identity tests compare them with the batched trainers in float32 and float64
for learning-rate-times-decay products from 1e-12 to 1e-1.

``nn.Module`` + ``torch.optim.SGD`` with one parameter group per weight (so a, V, b get their
own weight decay) + ``StepLR`` + a ``DataLoader`` fed the same batches as
:func:`numerics.training.loop.epoch_batches`. It uses autograd and PyTorch's optimizer, which
share no code with :class:`~numerics.training.two_layer.TwoLayerSGD`; the test suite checks that
both give the same weights (float64, relative 1e-12), and the ``sweep`` benchmark times both.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Sampler, TensorDataset

from numerics.models import MLP, TwoLayerReLU
from numerics.training.loop import epoch_batches


class EpochBatchSampler(Sampler[list[int]]):
    """Yields the batches :func:`epoch_batches` gives for the epoch set by :meth:`set_epoch`."""

    def __init__(self, seed: int, rows: int, batch_size: int) -> None:
        self.seed, self.rows, self.batch_size, self.epoch = seed, rows, batch_size, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        yield from epoch_batches(self.seed, self.epoch, self.rows, self.batch_size).tolist()

    def __len__(self) -> int:
        return self.rows // self.batch_size


def train_two_layer_reference(
    initial: dict[str, np.ndarray],
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    mu_v: float,
    mu_a: float,
    mu_b: float,
    lr: float,
    epochs: int,
    batch_size: int,
    seed: int,
    lr_decay: float = 0.95,
    lr_decay_every: int = 200,
    dtype: torch.dtype = torch.float64,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Train one network from ``initial``; return its final ``a``, ``V``, ``b`` and the per-epoch mean batch loss."""
    net = TwoLayerReLU.from_arrays(initial, dtype)
    optimizer = torch.optim.SGD(
        [
            {"params": [net.V], "weight_decay": mu_v},
            {"params": [net.a], "weight_decay": mu_a},
            {"params": [net.b], "weight_decay": mu_b},
        ],
        lr=lr,
    )
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=lr_decay_every, gamma=lr_decay)
    dataset = TensorDataset(torch.as_tensor(x_train, dtype=dtype), torch.as_tensor(y_train, dtype=dtype))
    sampler = EpochBatchSampler(seed, len(dataset), batch_size)
    loader = DataLoader(dataset, batch_sampler=sampler)
    epoch_loss = np.zeros(epochs)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            optimizer.step()
            epoch_loss[epoch] += loss.item() / len(sampler)
        scheduler.step()
    return {key: getattr(net, key).detach().numpy().copy() for key in ("a", "V", "b")}, epoch_loss


def train_mlp_reference(
    initial: dict[str, np.ndarray],
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    depth: int,
    weight_decay: float,
    lr: float,
    epochs: int,
    batch_size: int,
    seed: int,
    loss: str = "cross_entropy",
    dtype: torch.dtype = torch.float64,
) -> dict[str, np.ndarray]:
    """Train one bias-free ReLU MLP from ``initial`` (``A1``..``A<depth>``) with ``torch.optim.SGD``; return its final weights.

    ``loss``: ``cross_entropy`` or ``square`` (:math:`\\frac1B\\sum_j\\|f(x_j) - e_{y_j}\\|^2`), as
    :func:`numerics.training.network.batched_loss`; constant learning rate.
    """
    names = [f"A{layer + 1}" for layer in range(depth)]
    net = MLP.from_arrays([initial[name] for name in names], dtype=dtype)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, weight_decay=weight_decay)
    x, y = torch.as_tensor(x_train, dtype=dtype), torch.as_tensor(y_train)
    for epoch in range(epochs):
        for batch in epoch_batches(seed, epoch, len(y), batch_size):
            optimizer.zero_grad()
            outputs = net(x[batch])
            if loss == "cross_entropy":
                value = F.cross_entropy(outputs, y[batch])
            else:
                value = (outputs - F.one_hot(y[batch], outputs.shape[1]).to(outputs)).square().sum(dim=1).mean()
            value.backward()
            optimizer.step()
    return {name: weight.detach().numpy().copy() for name, weight in zip(names, net.layer_weights())}

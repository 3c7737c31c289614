"""The epoch loop shared by every trainer: batch order, learning-rate schedule, history, divergence.

A *trainable* holds M models of one architecture as batched tensors and knows how to take
one optimisation step on a batch (see :class:`BatchedTrainable`); this module drives it.

* Batches: epoch ``e`` of the model with seed ``s`` uses a fresh permutation of the N
  training rows drawn from ``numpy.random.default_rng([s, BATCH_STREAM, e])``, cut into
  ``N // B`` batches of size B; the last ``N % B`` rows of the permutation are dropped
  (PyTorch's ``drop_last=True``). The order is a pure function of (seed, epoch), so a model's
  batches do not depend on the other models of its sweep, and a resumed run needs no RNG state.
* Learning rate: ``lr * lr_decay ** (epoch // lr_decay_every)``; Chen et al. multiply by 0.95
  every 200 epochs [C, notes A.6]. The closed form (not a running product) makes a resumed run
  bit-identical to an uninterrupted one.
* History: every epoch the mean of the batch losses (data term, weights before each update)
  and the learning rate; every ``eval_every`` epochs, at epoch 0 (the initialisation) and at the
  last epoch, the trainable's metrics on the training and test sets.
* Divergence: a model is stopped and marked ``diverged`` (the others go on) when its epoch
  loss is not finite (checked every epoch), or, at every evaluation, when a metric is not
  finite or a weight is not finite or exceeds :data:`DIVERGENCE_WEIGHT_LIMIT` = 1e12 in
  magnitude. Weights blow up without a non-finite loss when the step is far too large (a
  saturated or dead ReLU network keeps a finite loss while its weights reach 1e22); the
  models of this suite start at weights of order 1/sqrt(fan-in) and stay within a few
  orders of magnitude of it, and at 1e12 squares (1e24) and products of a few layers approach
  float32's overflow at 3.4e38, so nothing measured on such a network is meaningful.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

#: stream id mixed into a run's seed for its batch order (initial weights use INIT_STREAM = 0)
BATCH_STREAM = 1
#: a model with a weight of larger magnitude (or a non-finite one) has diverged (module docstring)
DIVERGENCE_WEIGHT_LIMIT = 1e12


class BatchedTrainable(Protocol):
    """M models trained together; every tensor has the model dimension first."""

    device: torch.device

    def set_learning_rates(self, lr: Tensor) -> None:
        """Learning rates (M,) for the coming steps."""

    def step(self, batch: Tensor) -> Tensor:
        """One update of every model on its batch (M, B) of training rows; returns the batch losses (M,)."""

    def evaluate(self) -> dict[str, dict[str, Tensor]]:
        """``{"train": {metric: (M,)}, "test": {...}}`` at the current weights."""

    def select(self, keep: Tensor) -> None:
        """Keep only the models where the boolean (M,) mask is true."""

    def state(self) -> dict[str, np.ndarray]:
        """The weights, enough to resume (arrays with the model dimension first)."""

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`state`."""

    def model_weights(self, index: int) -> dict[str, np.ndarray]:
        """Model ``index``'s weights, named as its model documents them."""


@dataclass(frozen=True)
class Schedule:
    """What every model of a group shares (epochs, batch size) and what varies (seeds, lr)."""

    epochs: int
    batch_size: int
    rows: int
    seeds: tuple[int, ...]
    lr: tuple[float, ...]
    lr_decay: float = 1.0
    lr_decay_every: int = 1
    eval_every: int = 1
    shuffle: bool = True

    def learning_rates(self, epoch: int, models: list[int]) -> np.ndarray:
        return np.array([self.lr[i] for i in models]) * self.lr_decay ** (epoch // self.lr_decay_every)

    def batches(self, seed: int, epoch: int) -> np.ndarray:
        return epoch_batches(seed, epoch, self.rows, self.batch_size, self.shuffle)


def epoch_batches(seed: int, epoch: int, rows: int, batch_size: int, shuffle: bool = True) -> np.ndarray:
    """The (rows // batch_size, batch_size) training-row indices of epoch ``epoch`` (0-based).

    Without ``shuffle`` the rows are taken in order (full-batch gradient descent uses this).
    """
    order = np.random.default_rng([seed, BATCH_STREAM, epoch]).permutation(rows) if shuffle else np.arange(rows)
    batches = rows // batch_size
    return order[: batches * batch_size].reshape(batches, batch_size)


@dataclass
class ModelOutcome:
    """How one model ended: status, epochs run, history, final weights, its last epoch's batches."""

    status: str
    epochs_run: int
    history: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    final_epoch_batches: np.ndarray


@dataclass
class LoopState:
    """Everything needed to resume a group after ``epoch`` completed epochs (weights aside)."""

    epoch: int
    active: list[int]
    histories: list[dict[str, list[float]]]
    stopped: dict[int, dict[str, Any]] = field(default_factory=dict)

    def record(self, model: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.histories[model].setdefault(key, []).append(value)


def _history_arrays(history: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {key: np.asarray(values) for key, values in history.items()}


def _evaluate(trainable: BatchedTrainable, state: LoopState) -> np.ndarray:
    """Record the metrics of every active model; return which of them have finite metrics and
    weights within :data:`DIVERGENCE_WEIGHT_LIMIT`."""
    metrics = {
        f"{part}_{name}": values.detach().cpu().double().numpy()
        for part, named in trainable.evaluate().items()
        for name, values in named.items()
    }
    for position, model in enumerate(state.active):
        state.record(model, {"eval_epoch": state.epoch, **{key: float(v[position]) for key, v in metrics.items()}})
    return np.logical_and.reduce([np.isfinite(v) for v in metrics.values()] + [_weights_within_limit(trainable)])


def _weights_within_limit(trainable: BatchedTrainable) -> np.ndarray:
    """Per active model: every weight is finite and at most :data:`DIVERGENCE_WEIGHT_LIMIT` in magnitude."""
    within = [
        np.all(np.abs(array.reshape(len(array), -1)) <= DIVERGENCE_WEIGHT_LIMIT, axis=1)  # NaN compares False
        for array in trainable.state().values()
    ]
    return np.logical_and.reduce(within)


def _stop(trainable: BatchedTrainable, state: LoopState, finite: np.ndarray) -> None:
    """Take the models that are not finite out of the group, recording their outcome."""
    for position, model in enumerate(state.active):
        if not finite[position]:
            state.stopped[model] = {"status": "diverged", "epochs_run": state.epoch, "weights": trainable.model_weights(position)}
    trainable.select(torch.as_tensor(finite, device=trainable.device))
    state.active = [model for position, model in enumerate(state.active) if finite[position]]


#: the layout of a :func:`checkpoint_payload` (see :data:`numerics.store.Layout`)
CHECKPOINT_LAYOUT = {
    "loop": {"epoch": int, "active": list, "histories": list, "stopped": dict},
    "weights": {str: np.ndarray},
}


def checkpoint_payload(state: LoopState, trainable: BatchedTrainable) -> dict[str, Any]:
    """A plain-data snapshot of the loop and the weights, for :func:`train_group`'s ``resume``."""
    return {"loop": asdict(state), "weights": trainable.state()}


def train_group(
    trainable: BatchedTrainable,
    schedule: Schedule,
    *,
    resume: dict[str, Any] | None = None,
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
    checkpoint_every_epochs: int | None = None,
    checkpoint_every_s: float | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> list[ModelOutcome]:
    """Train the group for ``schedule.epochs`` epochs and return one outcome per model, in order.

    ``resume`` is a payload from :func:`checkpoint_payload`; the trainable must have been
    built for the same models (the loop removes those that had already stopped).
    ``checkpoint(payload)`` is called after an epoch when ``checkpoint_every_epochs`` epochs or
    ``checkpoint_every_s`` seconds have passed since the last one; then ``on_epoch(epochs done)``.
    """
    models = len(schedule.seeds)
    if resume is None:
        state = LoopState(epoch=0, active=list(range(models)), histories=[{} for _ in range(models)])
        finite = _evaluate(trainable, state)
        if not finite.all():
            _stop(trainable, state, finite)
    else:
        state = LoopState(**resume["loop"])
        state.stopped = {int(model): stopped for model, stopped in state.stopped.items()}
        keep = np.isin(np.arange(models), state.active)
        trainable.select(torch.as_tensor(keep, device=trainable.device))
        trainable.load_state(resume["weights"])
    last_time, last_epoch = time.monotonic(), state.epoch
    for epoch in range(state.epoch, schedule.epochs):
        if not state.active:
            break
        lr = schedule.learning_rates(epoch, state.active)
        trainable.set_learning_rates(torch.as_tensor(lr, device=trainable.device))
        batches = np.stack([schedule.batches(schedule.seeds[model], epoch) for model in state.active], axis=1)
        batches_on_device = torch.as_tensor(batches, device=trainable.device)
        loss_sum = trainable.step(batches_on_device[0])
        for step in range(1, len(batches)):
            loss_sum += trainable.step(batches_on_device[step])
        epoch_loss = (loss_sum / len(batches)).detach().cpu().double().numpy()
        for position, model in enumerate(state.active):
            state.record(model, {"epoch_loss": float(epoch_loss[position]), "epoch_lr": float(lr[position])})
        state.epoch = epoch + 1
        finite = np.isfinite(epoch_loss)
        if state.epoch % schedule.eval_every == 0 or state.epoch == schedule.epochs:
            finite &= _evaluate(trainable, state)
        if not finite.all():
            _stop(trainable, state, finite)
        due_epochs = checkpoint_every_epochs is not None and state.epoch - last_epoch >= checkpoint_every_epochs
        due_time = checkpoint_every_s is not None and time.monotonic() - last_time >= checkpoint_every_s
        if checkpoint is not None and (due_epochs or due_time) and state.epoch < schedule.epochs:
            checkpoint(checkpoint_payload(state, trainable))
            last_time, last_epoch = time.monotonic(), state.epoch
        if on_epoch is not None:
            on_epoch(state.epoch)
    for position, model in enumerate(state.active):
        state.stopped[model] = {"status": "finished", "epochs_run": state.epoch, "weights": trainable.model_weights(position)}
    return [
        ModelOutcome(
            history=_history_arrays(state.histories[model]),
            final_epoch_batches=_last_batches(schedule, model, state.stopped[model]["epochs_run"]),
            **state.stopped[model],
        )
        for model in range(models)
    ]


def _last_batches(schedule: Schedule, model: int, epochs_run: int) -> np.ndarray:
    """The batches of the model's last epoch; none if it stopped before training."""
    if epochs_run == 0:
        return np.zeros((0, schedule.batch_size), dtype=np.int64)
    return schedule.batches(schedule.seeds[model], epochs_run - 1)

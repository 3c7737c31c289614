"""Batched weight-decay sweep against a per-model loop: 8 Chen et al. networks, same work.

Work: 8 two-layer ReLU networks of width :data:`WIDTH` (n = 8 inputs, N = 1800 training
rows, B = 16, so 112 steps per epoch) trained for :data:`EPOCHS` epochs of mini-batch SGD with
weight decay, each with its own seed and mu_V, in float32. Inputs are standard normal and
targets come from a fixed random teacher (the timing does not depend on the values).

* baseline: the standard per-model loop, one model after the other
  (:func:`numerics.training.reference.train_two_layer_reference`: ``DataLoader`` + ``nn.Module``
  + ``torch.optim.SGD`` with one parameter group per weight);
* ours: the 8 models as one batched program (:class:`numerics.training.two_layer.TwoLayerSGD`
  driven by :func:`numerics.training.loop.train_group`).

Both evaluate the train and test MSE at the start and at the end (``eval_every = epochs``).

Both start from the same weights and see the same batches; before timing, one epoch of both
is run in float64 and the final weights are checked to agree to 1e-10 relative. Other widths:
``python benchmarks/bench_sweep.py --width 8192``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import Timing, interleaved
from numerics.data import DataSpec, Split
from numerics.models import TwoLayerReLU, init_two_layer
from numerics.training import ChenRun
from numerics.training.groups import TORCH_DTYPES, plan_chen
from numerics.training.loop import train_group
from numerics.training.reference import train_two_layer_reference

NAME = "sweep"
MODELS = 8
WIDTH = 2048
EPOCHS = 2
ROWS, INPUTS, TEST_ROWS = 1800, 8, 600


def _split() -> Split:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ROWS + TEST_ROWS, INPUTS))
    y = np.maximum(x @ rng.standard_normal((INPUTS, 16)), 0) @ rng.standard_normal(16) / 4
    rows = np.arange(ROWS + TEST_ROWS)
    return Split(x[:ROWS], y[:ROWS], x[ROWS:], y[ROWS:], rows[:ROWS], rows[ROWS:], {"dataset": "synthetic teacher"})


def _runs(width: int, epochs: int, dtype: str) -> list[ChenRun]:
    data = DataSpec("california", ROWS, TEST_ROWS)  # shapes only: the arrays come from _split()
    return [
        ChenRun(data=data, width=width, batch_size=16, mu_v=mu_v, epochs=epochs, lr=1e-4, seed=seed, eval_every=epochs, dtype=dtype)
        for seed, mu_v in enumerate(np.logspace(-5, 0, MODELS).tolist())
    ]


def _batched(runs: list[ChenRun], split: Split) -> tuple[list, list[dict[str, np.ndarray]]]:
    plan = plan_chen(runs, [split] * len(runs), "cpu")
    return train_group(plan.trainable, plan.schedule), plan.initial_weights


def _per_model(runs: list[ChenRun], split: Split, initials: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """Each model alone; like the batched trainer, it evaluates train and test MSE before and after."""
    finals = []
    for run, initial in zip(runs, initials):
        dtype = TORCH_DTYPES[run.dtype]
        _mse_pair(initial, split, dtype)
        final, _ = train_two_layer_reference(
            initial, split.x_train, split.y_train, mu_v=run.mu_v, mu_a=run.mu_a, mu_b=run.mu_b, lr=run.lr,
            epochs=run.epochs, batch_size=run.batch_size, seed=run.seed, dtype=dtype,
        )
        _mse_pair(final, split, dtype)
        finals.append(final)
    return finals


def _mse_pair(weights: dict[str, np.ndarray], split: Split, dtype: torch.dtype) -> tuple[float, float]:
    net = TwoLayerReLU.from_arrays(weights, dtype)
    with torch.no_grad():
        return tuple(  # type: ignore[return-value]
            float(torch.mean((net(torch.as_tensor(x, dtype=dtype)) - torch.as_tensor(y, dtype=dtype)) ** 2))
            for x, y in ((split.x_train, split.y_train), (split.x_test, split.y_test))
        )


def check_agreement(width: int, split: Split) -> None:
    """One float64 epoch of both implementations must give the same weights (relative 1e-10)."""
    runs = _runs(width, 1, "float64")
    outcomes, initials = _batched(runs, split)
    for outcome, reference in zip(outcomes, _per_model(runs, split, initials)):
        for key, value in reference.items():
            error = np.abs(outcome.weights[key] - value).max() / np.abs(value).max()
            if not error < 1e-10:
                raise AssertionError(f"batched and per-model training disagree on {key}: relative {error:.2e}")


def measure(width: int = WIDTH, epochs: int = EPOCHS, repeat: int = 2) -> Timing:
    """Check agreement, then time the per-model loop and the batched sweep on identical float32 work."""
    split = _split()
    check_agreement(width, split)
    runs = _runs(width, epochs, "float32")
    initials = [init_two_layer(run.seed, width, INPUTS) for run in runs]
    return interleaved(lambda: _per_model(runs, split, initials), lambda: _batched(runs, split), repeat)


def run() -> Timing:
    return measure()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=WIDTH)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    print(measure(args.width, args.epochs).line(f"{NAME}[width={args.width}]"))

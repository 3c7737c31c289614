"""From run specs of one kind to a batched trainable: initial weights, tensors, schedule, description.

One planner per run kind. The runs of a group share their :meth:`RunSpec.group_signature`
(data inputs, shapes, epochs, batch size, dtype); seeds, learning rates, weight decays and
label noise may differ per model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from numerics.data import Split
from numerics.models import (
    MLP_INIT,
    OYMAK_INIT,
    TWO_LAYER_INIT,
    BatchedMLP,
    BatchedTwoLayerReLU,
    init_mlp,
    init_oymak,
    init_two_layer,
)
from numerics.training import network, two_layer
from numerics.training.loop import BatchedTrainable, Schedule
from numerics.training.specs import ChenRun, LedentRun, OymakRun, RunSpec
from numerics.training.tensors import GroupTensors

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}
BATCHES = (
    "each epoch a fresh permutation of the training rows from default_rng([seed, 1, epoch]), "
    "cut into N // B batches of B; the last N % B rows are dropped"
)
SCHEDULE = "lr * lr_decay ** (epoch // lr_decay_every)"


@dataclass
class GroupPlan:
    """What :func:`numerics.training.loop.train_group` needs, plus each model's initial weights and
    a description of the method shared by every run of the group (stored in run metadata)."""

    trainable: BatchedTrainable
    schedule: Schedule
    initial_weights: list[dict[str, np.ndarray]]
    description: dict[str, Any]


def _schedule(runs: Sequence[RunSpec], batch_size: int, shuffle: bool = True) -> Schedule:
    first = runs[0]
    return Schedule(
        epochs=first.epochs,
        batch_size=batch_size,
        rows=first.data.n_train,
        seeds=tuple(run.seed for run in runs),
        lr=tuple(run.lr for run in runs),
        lr_decay=first.lr_decay,
        lr_decay_every=first.lr_decay_every,
        eval_every=first.eval_every,
        shuffle=shuffle,
    )


def _cast(weights: dict[str, np.ndarray], dtype: str) -> dict[str, np.ndarray]:
    """Initial weights as the run's dtype saw them (float64 draws rounded to float32, if so)."""
    return {name: array.astype(dtype) for name, array in weights.items()}


def _per_model(runs: Sequence[RunSpec], key: str, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    return torch.tensor([getattr(run, key) for run in runs], dtype=dtype, device=device)


def plan_chen(runs: Sequence[ChenRun], splits: Sequence[Split], device: torch.device | str) -> GroupPlan:
    first = runs[0]
    dtype = TORCH_DTYPES[first.dtype]
    initial = [init_two_layer(run.seed, run.width, run.data.inputs) for run in runs]
    trainable = two_layer.TwoLayerSGD(
        BatchedTwoLayerReLU.from_arrays(initial, dtype, device),
        GroupTensors.from_splits(splits, dtype, device),
        *(_per_model(runs, key, dtype, device) for key in ("mu_v", "mu_a", "mu_b")),
        classes=first.data.classes,
    )
    description = {
        "model": "Chen et al. Eq. 4 [R+]: f(x) = a relu(V x + b), a (m,), V (m, n), b (m,); no output bias",
        "init": TWO_LAYER_INIT,
        "loss": "(1/B) sum_j (f(x_j) - y_j)^2 + (mu_v/2)||V||_F^2 + (mu_a/2)||a||^2 + (mu_b/2)||b||^2 (Eq. 8 [R+])",
        "update": "Eq. 9 [R+] as torch.optim.SGD(weight_decay=mu_theta) in the dtype: d = grad_theta(data term) + mu_theta theta, theta <- theta - lr d; closed-form gradients",
        "decay_of_a_and_b": "mu_a, mu_b as configured; default mu_v, the reading of torch.optim.SGD(weight_decay=mu_v) [N in the paper]",
        "batches": BATCHES,
        "lr_schedule": SCHEDULE,
        "accuracy_rule": two_layer.ACCURACY_RULE if first.data.classes is not None else None,
    }
    initial = [_cast(weights, first.dtype) for weights in initial]
    return GroupPlan(trainable, _schedule(runs, first.batch_size), initial, description)


def plan_ledent(runs: Sequence[LedentRun], splits: Sequence[Split], device: torch.device | str) -> GroupPlan:
    first = runs[0]
    dtype = TORCH_DTYPES[first.dtype]
    names = [f"A{layer + 1}" for layer in range(first.depth)]
    layers = [init_mlp(run.seed, first.layer_sizes) for run in runs]
    model = BatchedMLP.from_arrays(layers, "relu", dtype, device, bias=first.bias)
    trainable = network.NetworkSGD(
        model, GroupTensors.from_splits(splits, dtype, device), _per_model(runs, "weight_decay", dtype, device), first.loss, names=names
    )
    initial = []
    for weights in layers:
        named = dict(zip(names, weights))
        if first.bias:
            named.update({f"c{layer + 1}": np.zeros(size) for layer, size in enumerate(first.layer_sizes[1:])})
        initial.append(_cast(named, first.dtype))
    description = {
        "model": f"ReLU MLP, layer sizes {first.layer_sizes}, {'with' if first.bias else 'without'} biases; A_l is (out, in)",
        "init": MLP_INIT,
        "loss": f"{first.loss}: " + {"cross_entropy": "(1/B) sum_j -log softmax(f(x_j))_{y_j}", "square": "(1/B) sum_j ||f(x_j) - e_{y_j}||^2"}[first.loss],
        "update": "torch.optim.SGD(weight_decay=wd) on every weight and bias, in the dtype: d = grad + wd theta, theta <- theta - lr d (autograd)",
        "batches": BATCHES,
        "lr_schedule": SCHEDULE,
        "accuracy_rule": network.ACCURACY_RULE,
    }
    return GroupPlan(trainable, _schedule(runs, first.batch_size), initial, description)


def plan_oymak(runs: Sequence[OymakRun], splits: Sequence[Split], device: torch.device | str) -> GroupPlan:
    first = runs[0]
    dtype = TORCH_DTYPES[first.dtype]
    classes = first.data.classes
    assert classes is not None  # checked by OymakRun
    initial = [init_oymak(run.seed, first.data.inputs, first.hidden, classes) for run in runs]
    model = BatchedMLP.from_arrays([[w["W"], w["V"]] for w in initial], first.activation, dtype, device)
    zeros = torch.zeros(len(runs), dtype=dtype, device=device)
    trainable = network.NetworkSGD(
        model, GroupTensors.from_splits(splits, dtype, device), zeros, "half_sum_square", frozen=(1,), names=["W", "V"]
    )
    description = {
        "model": f"Oymak et al. Eq. 1.1 [C]: f(x) = V {first.activation}(W x), W (k, d) trained, V (K, k) fixed",
        "init": OYMAK_INIT,
        "loss": "0.5 sum_i ||f(x_i) - e_{y_i}||^2 over the whole training set (Eq. 1.2 [C])",
        "update": "full-batch gradient descent W <- W - lr grad L(W) (Eq. 1.5 [C]), constant step unless lr_decay < 1",
        "batches": "one batch: all training rows in order (epoch = iteration)",
        "lr_schedule": SCHEDULE,
        "accuracy_rule": network.ACCURACY_RULE,
    }
    initial = [_cast(weights, first.dtype) for weights in initial]
    return GroupPlan(trainable, _schedule(runs, first.data.n_train, shuffle=False), initial, description)


PLANNERS: dict[str, Callable[..., GroupPlan]] = {"chen": plan_chen, "ledent": plan_ledent, "oymak": plan_oymak}

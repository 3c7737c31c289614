"""Weight decay applied exactly as torch.optim.SGD applies it, at every magnitude, in float32 and float64.

Training code version 1 multiplied by ``1 - lr * mu`` formed in the parameters' dtype, which is
exactly 1 in float32 below lr * mu = 2^-25 and quantised to multiples of 2^-24 above: these tests
fail on it (by 20 to 7e5 float32 eps at 160 steps, where the new rule stays within 4 eps).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_tasks import chen_run, ledent_run

from numerics.data import load_split
from numerics.training.decay import UNIT_ROUNDOFF, decay_resolution, run_decay_resolutions
from numerics.training.groups import plan_chen, plan_ledent
from numerics.training.loop import train_group
from numerics.training.reference import train_mlp_reference, train_two_layer_reference

#: products lr * mu spanning far below float32's resolution (6e-8) to strong decay
LR_TIMES_MU = (1e-12, 1e-9, 1e-7, 1e-5, 1e-3, 1e-1)
#: agreement with the reference, in units of the dtype's eps times the largest weight: the closed
#: form and autograd round the gradient differently, so the trajectories differ by a few eps (measured <= 3.3)
TOLERANCE_EPS = 16


def _train(planner, runs):  # noqa: ANN001, ANN202
    plan = planner(runs, [load_split(run.data) for run in runs], "cpu")
    return plan, train_group(plan.trainable, plan.schedule)


def _relative_difference(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_layer_trainer_follows_torch_sgd_at_every_decay_magnitude(dtype: str) -> None:
    lr = 1e-2
    runs = [chen_run(seed=0, mu_v=product / lr, lr=lr, lr_decay=1.0, epochs=16, dtype=dtype) for product in LR_TIMES_MU]
    plan, outcomes = _train(plan_chen, runs)
    split = load_split(runs[0].data)
    eps = float(np.finfo(dtype).eps)
    for run, initial, outcome in zip(runs, plan.initial_weights, outcomes):
        reference, _ = train_two_layer_reference(
            initial, split.x_train, split.y_train, mu_v=run.mu_v, mu_a=run.mu_a, mu_b=run.mu_b, lr=run.lr,
            epochs=run.epochs, batch_size=run.batch_size, seed=run.seed, lr_decay=1.0, lr_decay_every=1, dtype=getattr(torch, dtype),
        )
        for key in ("a", "V", "b"):
            assert outcome.weights[key].dtype == np.dtype(dtype)
            difference = _relative_difference(outcome.weights[key], reference[key])
            assert difference <= TOLERANCE_EPS * eps, (run.mu_v * lr, key, difference / eps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deep_mlp_trainer_follows_torch_sgd_at_every_decay_magnitude(dtype: str) -> None:
    lr = 0.05
    runs = [ledent_run(seed=0, weight_decay=product / lr, lr=lr, epochs=4, dtype=dtype) for product in LR_TIMES_MU]
    plan, outcomes = _train(plan_ledent, runs)
    split = load_split(runs[0].data)
    eps = float(np.finfo(dtype).eps)
    for run, initial, outcome in zip(runs, plan.initial_weights, outcomes):
        reference = train_mlp_reference(
            initial, split.x_train, split.y_train, depth=run.depth, weight_decay=run.weight_decay, lr=run.lr,
            epochs=run.epochs, batch_size=run.batch_size, seed=run.seed, loss=run.loss, dtype=getattr(torch, dtype),
        )
        for key, weights in reference.items():
            difference = _relative_difference(outcome.weights[key], weights)
            assert difference <= TOLERANCE_EPS * eps, (run.weight_decay * lr, key, difference / eps)


def test_the_audits_float32_runs_are_no_longer_identical() -> None:
    """lr = 1e-4, mu_V = 1e-5 and 1e-4 ended bit-identical under training code version 1."""
    runs = [chen_run(seed=0, mu_v=mu, lr=1e-4, lr_decay=1.0, epochs=4, dtype="float32") for mu in (1e-5, 1e-4)]
    _, (weak, strong) = _train(plan_chen, runs)
    assert not np.array_equal(weak.weights["V"], strong.weights["V"])


@settings(max_examples=12, deadline=None)
@given(
    dtype=st.sampled_from(["float32", "float64"]),
    resolution_multiple=st.floats(min_value=1.0, max_value=1e6),
    lr=st.sampled_from([1e-4, 1e-3, 1e-2]),
)
def test_runs_differing_only_in_a_resolved_decay_never_end_identical(dtype: str, resolution_multiple: float, lr: float) -> None:
    mu = resolution_multiple * UNIT_ROUNDOFF[dtype] / lr
    runs = [chen_run(seed=0, mu_v=value, lr=lr, lr_decay=1.0, epochs=2, dtype=dtype) for value in (mu, 2 * mu)]
    assert not any(resolution.inert for run in runs for resolution in run_decay_resolutions(run))
    _, (first, second) = _train(plan_chen, runs)
    for key in ("a", "V", "b"):
        assert not np.array_equal(first.weights[key], second.weights[key]), key


def test_decay_resolution_marks_decays_below_the_unit_roundoff() -> None:
    weak = decay_resolution("mu_v", 1e-5, 1e-4, 0.95, 200, 5000, "float32")
    assert weak.inert and weak.inert_from_epoch == 0 and weak.relative_step == pytest.approx(1e-9)
    assert not decay_resolution("mu_v", 1e-5, 1e-4, 0.95, 200, 5000, "float64").inert
    # 1e-4 * 1e-3 = 1e-7 > u = 5.96e-8 until 0.95^k < 0.596, k = 11: epoch 2200
    late = decay_resolution("mu_v", 1e-3, 1e-4, 0.95, 200, 5000, "float32")
    assert not late.inert and late.inert_from_epoch == 2200
    assert 1e-7 * 0.95**10 >= UNIT_ROUNDOFF["float32"] > 1e-7 * 0.95**11
    assert decay_resolution("mu_v", 1e-3, 1e-4, 0.95, 200, 2200, "float32").inert_from_epoch is None
    assert decay_resolution("mu_v", 0.0, 1e-4, 0.95, 200, 5000, "float32").inert_from_epoch is None


def test_trained_runs_record_their_decay_resolution(tmp_path) -> None:  # noqa: ANN001
    from numerics.training import run_experiment
    from torch_tasks import preset_of

    runs = [chen_run(seed=0, mu_v=1e-5, lr=1e-4, epochs=1, dtype="float32"), chen_run(seed=0, mu_v=1e-5, lr=1e-4, epochs=1)]
    results = run_experiment("task", preset_of(runs), tmp_path)
    assert [bool(run.inert_decays) for run in results] == [True, False]
    assert {resolution.parameter for resolution in results[0].inert_decays} == {"mu_v", "mu_a", "mu_b"}

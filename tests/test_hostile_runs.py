"""One bad run must not sink the rest (issue 13, section 6).

A run whose weights blew up without a non-finite loss (Oymak's net at lr = 1e8, a deep MLP at
lr = 1e6: weights around 1e22, a saturated or dead network with a finite loss) used to be
recorded ``finished`` and then crashed ``rankbound check`` and ``report`` (alpha = 0 in the
Jacobian split, B_layer = 0 in the deep bounds). Now the training loop marks it ``diverged``
(:data:`~numerics.training.loop.DIVERGENCE_WEIGHT_LIMIT`), the checks give ``inconclusive``
with the reason for every run they cannot use, also for stores written by older code, and the
report is built.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import checks.generalization
import checks.measurements
from checks.context import CheckContext
from checks.registry import run_checks
from numerics.training import load_preset, loop, run_experiment
from numerics.training.loop import DIVERGENCE_WEIGHT_LIMIT, Schedule, train_group
from rankbound.cli import cli

#: tiny experiments where some runs blow up: Oymak at lr 1e8, the deep MLP at lr 1e6 (both keep a
#: finite loss), Chen at lr 0.5 and 3 (a non-finite loss) beside Chen runs at lr 1e-3 that finish
HOSTILE_PRESET = """
[oymak]
kind = "oymak"
hidden = 16
epochs = 5
lr = 1e8
eval_every = 5
[oymak.data]
name = "mnist"
n_train = 60
n_test = 50
target = "class"
unit_norm = true
[[oymak.sweep]]
data = { label_noise = [0.0, 0.5] }

[generalization_deep]
kind = "ledent"
width = 16
epochs = 3
lr = 1e6
batch_size = 32
eval_every = 3
[generalization_deep.data]
name = "mnist"
n_test = 100
target = "class"
[[generalization_deep.sweep]]
depth = [2]
data = { n_train = [64, 128] }

[chen_california]
kind = "chen"
width = 16
epochs = 4
lr = 1e-3
eval_every = 2
[chen_california.data]
name = "california"
n_train = 64
n_test = 32
[[chen_california.sweep]]
mu_v = [1e-4, 1e-2, 1.0]
batch_size = [16]
lr = [1e-3, 0.5]

[generalization_chen]
kind = "chen"
width = 16
epochs = 4
lr = 3.0
batch_size = 16
eval_every = 2
[generalization_chen.data]
name = "california"
n_test = 32
[[generalization_chen.sweep]]
mu_v = [1e-4, 1.0]
data = { n_train = [64, 96] }
"""
CHECKS = ("jacobian.split", "jacobian.label_noise", "generalization.deep", "generalization.chen", "chen.stable_rank", "chen.mse", "chen.gradients", "lowrank.trained")


class Exploding:
    """A fake trainable: model i multiplies its three weights by ``factors[i]`` every step, with a loss of 1."""

    device = torch.device("cpu")

    def __init__(self, factors: list[float]) -> None:
        self.factors = np.array(factors)
        self.weights = np.ones((len(factors), 3))

    def set_learning_rates(self, lr: torch.Tensor) -> None:
        pass

    def step(self, batch: torch.Tensor) -> torch.Tensor:
        self.weights = self.weights * self.factors[:, None]
        return torch.ones(len(self.weights), dtype=torch.float64)

    def evaluate(self) -> dict[str, dict[str, torch.Tensor]]:
        ones = torch.ones(len(self.weights), dtype=torch.float64)
        return {"train": {"loss": ones}, "test": {"loss": ones}}

    def select(self, keep: torch.Tensor) -> None:
        self.factors, self.weights = self.factors[keep.numpy()], self.weights[keep.numpy()]

    def state(self) -> dict[str, np.ndarray]:
        return {"w": self.weights.copy()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights = state["w"].copy()

    def model_weights(self, index: int) -> dict[str, np.ndarray]:
        return {"w": self.weights[index].copy()}


def test_loop_stops_models_whose_weights_explode_with_a_finite_loss() -> None:
    """Evaluations at epochs 3, 6, 9, 12. x100 per epoch: 1e12 at epoch 6 (the limit, allowed),
    1e18 at epoch 9: diverged. x10: exactly 1e12 at epoch 12, finished. NaN: diverged at 3."""
    schedule = Schedule(epochs=12, batch_size=1, rows=1, seeds=(0, 1, 2, 3), lr=(1.0,) * 4, eval_every=3)
    outcomes = train_group(Exploding([1.0, 100.0, 10.0, math.nan]), schedule)
    assert [(o.status, o.epochs_run) for o in outcomes] == [("finished", 12), ("diverged", 9), ("finished", 12), ("diverged", 3)]
    assert outcomes[1].weights["w"][0] == 1e18 and outcomes[2].weights["w"][0] == DIVERGENCE_WEIGHT_LIMIT
    assert all(np.all(o.history["epoch_loss"] == 1.0) for o in outcomes)  # the loss alone never showed it


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    """The hostile preset and a store where it is trained."""
    root = tmp_path_factory.mktemp("hostile-runs")
    preset = root / "hostile.toml"
    preset.write_text(HOSTILE_PRESET)
    store = root / "store"
    loaded = load_preset(preset)
    for experiment in loaded.experiments:
        run_experiment(experiment, loaded, store)
    return preset, store


def test_blown_up_runs_are_recorded_diverged(hostile: tuple[Path, Path]) -> None:
    preset, store = hostile
    loaded = load_preset(preset)
    for experiment in ("oymak", "generalization_deep"):
        for run in run_experiment(experiment, loaded, store):
            assert run.status == "diverged" and np.all(np.isfinite(run.history["epoch_loss"]))
            assert max(np.abs(w).max() for w in run.weights.values()) > DIVERGENCE_WEIGHT_LIMIT
    chen = run_experiment("chen_california", loaded, store)
    assert sorted((run.spec.lr, run.status) for run in chen) == [(1e-3, "finished")] * 3 + [(0.5, "diverged")] * 3


def verdicts_by_check(preset: Path, store: Path) -> dict[str, list]:
    report = run_checks(CheckContext.from_preset(preset, store=store), CHECKS)
    by_check: dict[str, list] = {}
    for record in report.records:
        by_check.setdefault(record.check, []).append(record)
    return by_check


def assert_unusable_runs_are_inconclusive(by_check: dict[str, list], reason: str) -> None:
    split = by_check["jacobian.split"]
    assert len(split) == 2 and all(r.verdict == "inconclusive" and reason in r.reason for r in split)
    assert all(r.verdict == "inconclusive" and "cannot be measured" in r.reason for r in by_check["jacobian.label_noise"])
    assert by_check["generalization.deep"] and all(r.verdict == "inconclusive" and reason in r.reason for r in by_check["generalization.deep"])
    assert by_check["generalization.chen"] and all(r.verdict == "inconclusive" and "diverged" in r.reason for r in by_check["generalization.chen"])
    # the Chen runs that finished are still measured and decided
    assert len(by_check["lowrank.trained"]) > 0 and len(by_check["chen.stable_rank"]) == 1


def test_checks_give_inconclusive_for_diverged_runs(hostile: tuple[Path, Path]) -> None:
    assert_unusable_runs_are_inconclusive(verdicts_by_check(*hostile), "training diverged after")


@pytest.fixture(scope="module")
def old_store(hostile: tuple[Path, Path], tmp_path_factory) -> Path:
    """The blown-up experiments trained with the weight rule off, as older code did: stored 'finished' at 1e22."""
    preset, _ = hostile
    loaded, store = load_preset(preset), tmp_path_factory.mktemp("old") / "store"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "DIVERGENCE_WEIGHT_LIMIT", math.inf)
        runs = [run for e in loaded.experiments for run in run_experiment(e, loaded, store)]
    assert [run.status for run in runs if run.experiment in ("oymak", "generalization_deep")] == ["finished"] * 4
    return store


def test_checks_refuse_blown_up_runs_an_older_version_recorded_finished(hostile: tuple[Path, Path], old_store: Path) -> None:
    assert_unusable_runs_are_inconclusive(verdicts_by_check(hostile[0], old_store), "beyond the divergence limit 1e+12")


# the dead deep nets have training margin gamma = 0: the ramp risk 1 - M/gamma is 0/0 (NaN, unused: those records are inconclusive)
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
def test_checks_survive_nets_outside_the_statements_domains(hostile: tuple[Path, Path], old_store: Path, monkeypatch) -> None:
    """Measure the blown-up nets anyway (only the status counts, as before): the Jacobian has rank
    < 51 (alpha = 0) and the deep nets' layer inputs vanish (B_layer = 0); each such record is
    inconclusive with the reason instead of a crash."""
    status_only = lambda run: None if run.status == "finished" else f"training {run.status}"  # noqa: E731
    monkeypatch.setattr(checks.measurements, "training_problem", status_only)
    monkeypatch.setattr(checks.generalization, "training_problem", status_only)
    by_check = verdicts_by_check(hostile[0], old_store)
    domain = [r for r in by_check["jacobian.split"] if r.form == "pinv_bound" and "(final," in r.coverage]
    assert len(domain) == 2 and all(r.verdict == "inconclusive" and "alpha=0" in r.reason for r in domain)
    ledent = [r for r in by_check["generalization.deep"] if r.statement == "ledent2025.thm3_7_repro"]
    assert ledent and all(r.verdict == "inconclusive" and "leave the statement's domain" in r.reason for r in ledent)


def test_report_is_built_around_the_bad_runs(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    preset, store = hostile
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", "--preset", str(preset), "--store", str(store), "--out", str(out), "--no-compile"])
    assert result.exit_code == 0, result.output
    tex = (out / "report.tex").read_text()
    assert "training diverged after" in tex and (out / "figures" / "chen_california_stable_rank.pdf").is_file()


ALL_DIVERGED_CHEN = """
[chen_california]
kind = "chen"
width = 16
epochs = 2
lr = 3.0
eval_every = 1
[chen_california.data]
name = "california"
n_train = 64
n_test = 32
[[chen_california.sweep]]
mu_v = [1e-4, 1e-2, 1.0]
batch_size = [16]
"""


def test_claims_and_figures_without_a_single_finished_run(tmp_path: Path) -> None:
    from reports.experiment_figures import chen_figures

    preset = tmp_path / "diverging.toml"
    preset.write_text(ALL_DIVERGED_CHEN)
    context = CheckContext.from_preset(preset, store=tmp_path / "store")
    assert {run.status for run in context.runs("chen_california")} == {"diverged"}
    report = run_checks(context, ("chen.stable_rank", "chen.mse", "chen.gradients", "chen.batch_size", "lowrank.trained"))
    assert [r.check for r in report.records] == ["chen.stable_rank", "chen.mse", "chen.mse", "chen.gradients"]
    for record in report.records:
        assert record.verdict == "inconclusive" and "with finished runs" in record.reason and "3 of 3 runs did not finish" in record.reason
    assert chen_figures(context, tmp_path, "chen_california") == []

"""Preset values that used to pass validation and fail later (issue 13, section 5).

``lr = inf`` and ``mu_v = inf`` passed the checks and crashed in the JSON hashing of the run
key; ``width = 1000000000000`` crashed with NumPy's MemoryError while drawing the initial
weights. Each must now be one ValueError naming the parameter, before anything is allocated.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from numerics.data.spec import DataSpec
from numerics.training.config import load_preset, parse_experiment
from numerics.training.specs import MAX_MODEL_MEMORY_GIB, ChenRun, LedentRun, OymakRun
from rankbound.cli import cli

CALIFORNIA = {"name": "california", "n_train": 100, "n_test": 50}
MNIST = {"name": "mnist", "n_train": 100, "n_test": 50, "target": "class"}
CHEN = {"kind": "chen", "width": 8, "batch_size": 10, "mu_v": 0.1, "epochs": 1, "lr": 0.01, "data": CALIFORNIA}
LEDENT = {"kind": "ledent", "depth": 3, "width": 8, "batch_size": 10, "epochs": 1, "lr": 0.01, "data": MNIST}
OYMAK = {"kind": "oymak", "hidden": 8, "epochs": 1, "lr": 0.01, "data": MNIST}
INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("table", "key", "value", "condition"),
    [
        (CHEN, "lr", INF, "lr > 0 (a finite number)"),
        (CHEN, "lr", NAN, "lr > 0 (a finite number)"),
        (CHEN, "lr", -INF, "lr > 0 (a finite number)"),
        (CHEN, "lr", 10**400, "lr > 0 (a finite number)"),  # an int beyond float64
        (CHEN, "mu_v", INF, "mu_v >= 0 (a finite number)"),
        (CHEN, "mu_a", INF, "mu_a >= 0 (a finite number)"),
        (CHEN, "mu_b", NAN, "mu_b >= 0 (a finite number)"),
        (CHEN, "lr_decay", INF, "0 < lr_decay <= 1 (a finite number)"),
        (LEDENT, "weight_decay", INF, "weight_decay >= 0 (a finite number)"),
        (LEDENT, "lr", INF, "lr > 0 (a finite number)"),
        (OYMAK, "lr", INF, "lr > 0 (a finite number)"),
    ],
)
def test_non_finite_reals_are_refused_naming_the_key(table: dict, key: str, value: float, condition: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_experiment("probe", {**table, key: value})
    assert f"[probe] {key}=" in str(error.value) and condition in str(error.value)


@pytest.mark.parametrize(
    ("table", "sizes", "named"),
    [
        (CHEN, {"width": 10**12}, "width=1000000000000, batch_size=10"),
        (LEDENT, {"width": 10**6}, "depth=3, width=1000000, batch_size=10"),
        (LEDENT, {"depth": 10**9}, "depth=1000000000, width=8, batch_size=10"),
        (OYMAK, {"hidden": 10**12}, "hidden=1000000000000"),
    ],
)
def test_absurd_sizes_are_refused_with_the_memory_estimate(table: dict, sizes: dict, named: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_experiment("probe", {**table, **sizes})
    message = str(error.value)
    assert message.startswith(f"[probe] {named} violates memory: one model of this run needs about ")
    needed = float(re.search(r"needs about (\S+) GiB", message).group(1))
    assert needed > MAX_MODEL_MEMORY_GIB and f"above the limit of {MAX_MODEL_MEMORY_GIB} GiB" in message


def test_memory_estimate_counts_parameters_and_activations() -> None:
    """Chen, width 1000 on California (8 inputs), float32: (8 + 16) bytes x 10000 parameters
    (V 8000, b 1000, a 1000) + 12 bytes x 100 rows x 1001 units."""
    run = ChenRun(data=DataSpec(**CALIFORNIA), width=1000, batch_size=10, mu_v=0.1, epochs=1, lr=0.01)
    assert run.memory_estimate() == 24 * 10_000 + 12 * 100 * 1001
    deep = LedentRun(data=DataSpec(**MNIST), depth=3, width=10, batch_size=10, epochs=1, lr=0.1, dtype="float64")
    assert deep.memory_estimate() == (8 + 32) * (784 * 10 + 10 * 10 + 10 * 10) + 24 * 100 * (10 + 10 + 10)
    oymak = OymakRun(data=DataSpec(**MNIST), hidden=10, epochs=1, lr=0.1)
    assert oymak.memory_estimate() == 24 * (784 + 10) * 10 + 12 * 100 * 20


@pytest.mark.parametrize("preset", ["quick", "paper"])
def test_shipped_presets_stay_below_the_limit(preset: str) -> None:
    for experiment in load_preset(preset).experiments.values():
        assert all(run.memory_estimate() < MAX_MODEL_MEMORY_GIB * 2**30 / 8 for run in experiment.runs)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("lr = inf", "lr=inf violates lr > 0 (a finite number)"),
        ("mu_v = inf", "mu_v=inf violates mu_v >= 0 (a finite number)"),
        ("width = 1000000000000", "width=1000000000000, batch_size=10 violates memory"),
    ],
)
def test_train_cli_refuses_the_toml_in_one_line(tmp_path: Path, line: str, message: str) -> None:
    preset = tmp_path / "hostile.toml"
    fields = {"width": "8", "batch_size": "10", "mu_v": "0.1", "epochs": "1", "lr": "0.01"}
    key, value = (part.strip() for part in line.split("="))
    fields[key] = value
    body = "\n".join(f"{name} = {text}" for name, text in fields.items())
    preset.write_text(f'[probe]\nkind = "chen"\n{body}\n[probe.data]\nname = "california"\nn_train = 100\nn_test = 50\n')
    store = tmp_path / "store"
    result = CliRunner().invoke(cli, ["train", "--preset", str(preset), "--store", str(store)])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
    assert not store.exists()

"""``rankbound train``: training a preset file, reuse on the second call, usage errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch_tasks import TINY_PRESET_TOML, write_tiny_preset

from numerics.store import ResultStore
from rankbound.cli import cli


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, ["train", *args])


def test_train_a_preset_file_then_reuse_it(tmp_path: Path) -> None:
    preset = write_tiny_preset(tmp_path)
    store = tmp_path / "store"
    first = invoke("--preset", str(preset), "--store", str(store))
    assert first.exit_code == 0, first.output
    assert "tiny_chen: 2 runs (trained 2, reused 0, diverged 0)" in first.stdout
    assert "preset tiny: trained 3, reused 0, diverged 0" in first.stdout
    assert len(ResultStore(store).keys()) == 3
    second = invoke("--preset", str(preset), "--store", str(store), "--only", "tiny_ledent")
    assert second.exit_code == 0, second.output
    assert "tiny_ledent: 1 runs (trained 0, reused 1, diverged 0)" in second.stdout
    assert "tiny_chen" not in second.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nonexistent"], "Invalid value for --preset: preset='nonexistent' violates"),
        (["--preset", "quick", "--only", "chen_cifar"], "Invalid value for --only: 'chen_cifar' is not an experiment"),
        (["--preset", "quick", "--device", "tpu"], "Invalid value for '--device'"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert sum(line.startswith("Error:") for line in result.stderr.splitlines()) == 1


def test_a_bad_config_value_exits_2_naming_the_key(tmp_path: Path) -> None:
    preset = write_tiny_preset(tmp_path, TINY_PRESET_TOML.replace("width = 16", "width = 0"))
    result = invoke("--preset", str(preset), "--store", str(tmp_path / "store"))
    assert result.exit_code == 2
    assert "[tiny_chen] width=0 violates width >= 1" in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_cuda_without_a_device_is_a_usage_error() -> None:
    result = invoke("--preset", "quick", "--device", "cuda")
    assert result.exit_code == 2 and "no CUDA device" in result.stderr


def test_missing_data_exits_1_saying_how_to_provide_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))
    result = invoke("--preset", "quick", "--only", "chen_california", "--data-dir", str(tmp_path / "empty"), "--store", str(tmp_path / "s"))
    assert result.exit_code == 1
    assert "California Housing not found" in result.stderr and "--data-dir" in result.stderr


def test_an_inert_weight_decay_is_warned_about_naming_the_run(tmp_path: Path) -> None:
    # float32 at lr 1e-4: mu_V = 1e-3 gives lr mu = 1e-7 > u = 6e-8 (resolved), mu_V = 1e-4 gives 1e-8 (inert)
    text = TINY_PRESET_TOML.replace('dtype = "float64"', 'dtype = "float32"').replace("mu_v = [1e-3, 1e-1]", "mu_v = [1e-4, 1e-3]")
    result = invoke("--preset", str(write_tiny_preset(tmp_path, text)), "--store", str(tmp_path / "store"), "--only", "tiny_chen")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert "tiny_chen run (mu_v=0.0001, lr=0.0001, mu_a=0.0001, mu_b=0.0001, seed=0, dtype float32)" in warnings[0]
    assert "mu_v=0.0001: lr*mu = 1e-08 is below the unit roundoff u = 5.96e-08" in warnings[0]
    assert 'Set dtype = "float64"' in warnings[0]

"""``rankbound analyze``: JSON rows against independent NumPy computations on a saved small model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from numerics.measures.analyze import analyze, parse_exponents
from rankbound.cli import cli

# TorchScript is one of the accepted formats; torch marks its jit entry points deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

ROW_KEYS = {"name", "shape", "spectral_norm", "frobenius_norm", "stable_rank", "schatten", "rank", "rank_tolerance"}


def small_model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, kernel_size=3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 3 * 3, 6),
        torch.nn.ReLU(),
        torch.nn.Linear(6, 3),
    )
    with torch.no_grad():  # a rank-2 layer, so the numerical rank is tested below full rank
        model[4].weight.copy_(torch.randn(6, 2) @ torch.randn(2, 36))
    return model


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Path]:
    model = small_model()
    paths = {"state_dict": tmp_path / "weights.pt", "torchscript": tmp_path / "scripted.pt", "module": tmp_path / "module.pt"}
    torch.save(model.state_dict(), paths["state_dict"])
    torch.jit.save(torch.jit.script(model), paths["torchscript"])
    torch.save(model, paths["module"])
    return paths


def run(*args: str):
    return CliRunner().invoke(cli, ["analyze", *args])


def reference_row(weight: torch.Tensor, exponents: list[float]) -> dict[str, object]:
    """What a row must say, computed directly with NumPy on the stored (float32) array."""
    matrix = weight.detach().numpy().reshape(weight.shape[0], -1)
    sigma = np.linalg.svd(matrix.astype(np.float64), compute_uv=False)
    q = sigma / sigma.sum()
    return {
        "spectral_norm": np.linalg.norm(matrix.astype(np.float64), 2),
        "frobenius_norm": np.linalg.norm(matrix.astype(np.float64)),
        "stable_rank": np.sum(sigma**2) / sigma[0] ** 2,
        "schatten": [np.sum(sigma**p) ** (1 / p) for p in exponents],
        "rank_proxy": [np.sum((sigma / sigma[0]) ** p) for p in exponents],
        "rank": int(np.linalg.matrix_rank(matrix)),  # numpy's default rule at float32 precision
        "rank_tolerance": sigma[0] * max(matrix.shape) * np.finfo(np.float32).eps,
        "effective_rank": np.exp(-np.sum(q * np.log(q))),
        "matrix_shape": list(matrix.shape),
    }


def test_json_rows_match_numpy(saved: dict[str, Path]) -> None:
    result = run(str(saved["state_dict"]), "--p", "0.5,1,2", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"layers", "skipped"}
    state = small_model().state_dict()
    rows = {row["name"]: row for row in payload["layers"]}
    assert list(rows) == ["0.weight", "4.weight", "6.weight"]
    for name, row in rows.items():
        assert ROW_KEYS <= set(row)
        assert row["shape"] == list(state[name].shape)
        expected = reference_row(state[name], [0.5, 1.0, 2.0])
        rtol = max(1e-10, 3 * (row["singular_value_relative_error"] or 0.0))  # the bound the row records
        for key in ("spectral_norm", "frobenius_norm", "stable_rank", "effective_rank", "rank_tolerance"):
            assert row[key] == pytest.approx(expected[key], rel=rtol), key
        assert row["rank"] == expected["rank"] and row["matrix_shape"] == expected["matrix_shape"]
        assert list(row["schatten"]) == ["0.5", "1", "2"]
        np.testing.assert_allclose(list(row["schatten"].values()), expected["schatten"], rtol=rtol)
        np.testing.assert_allclose(list(row["rank_proxy"].values()), expected["rank_proxy"], rtol=rtol)
    assert rows["4.weight"]["rank"] == 2
    assert rows["4.weight"]["singular_values"] == "svd"  # rank-deficient: the Gram cannot resolve it
    assert rows["6.weight"]["singular_values"] == "gram" and rows["6.weight"]["singular_value_relative_error"] <= 1e-6
    assert rows["0.weight"]["reshape"] is not None and "(out, in*k1*k2)" in rows["0.weight"]["reshape"]
    assert rows["6.weight"]["reshape"] is None


def test_every_tensor_is_either_analysed_or_skipped_with_a_reason(saved: dict[str, Path]) -> None:
    payload = json.loads(run(str(saved["state_dict"]), "--json").stdout)
    state = small_model().state_dict()
    analysed = {row["name"] for row in payload["layers"]}
    skipped = {entry["name"]: entry["reason"] for entry in payload["skipped"]}
    assert analysed | set(skipped) == set(state) and not analysed & set(skipped)
    assert "1-D" in skipped["0.bias"] and "1-D" in skipped["1.running_var"]
    assert "non-floating" in skipped["1.num_batches_tracked"]


def test_torchscript_archive_gives_the_same_rows(saved: dict[str, Path]) -> None:
    from_state = json.loads(run(str(saved["state_dict"]), "--json").stdout)
    from_script = json.loads(run(str(saved["torchscript"]), "--json").stdout)
    assert from_script == from_state


def test_python_api_accepts_modules_and_mappings(saved: dict[str, Path]) -> None:
    model = small_model()
    from_file = analyze(saved["state_dict"], p=[0.5, 1, 2]).to_dict()
    assert analyze(model, p=[0.5, 1, 2]).to_dict() == from_file
    nested = {"model": model.state_dict(), "epoch": 3}
    result = analyze(nested, p="1")
    assert [row.name for row in result.layers] == ["model.0.weight", "model.4.weight", "model.6.weight"]
    assert {"name": "epoch", "reason": "not a tensor (int)"} in result.to_dict()["skipped"]
    frame = analyze(model).to_frame()
    assert list(frame["name"]) == ["0.weight", "4.weight", "6.weight"]
    assert {"S_0.5", "S_1", "S_2", "r_0.5", "stable_rank", "rank"} <= set(frame.columns)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float8_e4m3fn, torch.float8_e5m2fnuz])
def test_reduced_precision_weights_are_analysed_as_stored(dtype: torch.dtype) -> None:
    """float16, and dtypes NumPy lacks: the exactly widened values, the stored dtype's eps."""
    weight = small_model()[4].weight.detach().to(dtype)
    poisoned = weight.clone()
    poisoned[0, 0] = float("nan")  # float8_e4m3fn has no inf
    result = analyze({"w": weight, "bad": poisoned})
    (row,) = result.layers
    widened = weight.double().numpy()
    sigma = np.linalg.svd(widened, compute_uv=False)
    assert row.dtype == str(dtype).removeprefix("torch.")
    assert row.frobenius_norm == pytest.approx(np.linalg.norm(widened), rel=1e-13)
    assert row.spectral_norm == pytest.approx(sigma[0], rel=1e-12)
    assert row.rank_tolerance == pytest.approx(max(widened.shape) * torch.finfo(dtype).eps * sigma[0], rel=1e-12)
    assert row.rank == int(np.sum(sigma > row.rank_tolerance))
    assert [(entry.name, entry.reason) for entry in result.skipped] == [("bad", "contains NaN or infinite entries")]


def test_user_rank_tolerance_is_applied_and_recorded(saved: dict[str, Path]) -> None:
    payload = json.loads(run(str(saved["state_dict"]), "--json", "--rtol", "0.5").stdout)
    state = small_model().state_dict()
    for row in payload["layers"]:
        sigma = np.linalg.svd(state[row["name"]].reshape(state[row["name"]].shape[0], -1).double().numpy(), compute_uv=False)
        assert row["rank_tolerance"] == pytest.approx(0.5 * sigma[0])
        assert row["rank"] == int(np.sum(sigma > 0.5 * sigma[0]))
        assert "rtol = 0.5" in row["rank_rule"]


def test_svd_method_agrees_with_the_default_within_the_recorded_bound(saved: dict[str, Path]) -> None:
    default = json.loads(run(str(saved["state_dict"]), "--json").stdout)["layers"]
    exact = json.loads(run(str(saved["state_dict"]), "--json", "--method", "svd").stdout)["layers"]
    for fast, reference in zip(default, exact, strict=True):
        assert reference["singular_values"] == "svd" and reference["singular_value_relative_error"] is None
        bound = max(fast["singular_value_relative_error"] or 0.0, 1e-12)
        for key in ("spectral_norm", "stable_rank", "effective_rank"):
            assert fast[key] == pytest.approx(reference[key], rel=3 * bound)
        assert fast["rank"] == reference["rank"]


def test_table_output_lists_layers_and_skipped(saved: dict[str, Path]) -> None:
    result = run(str(saved["state_dict"]))
    assert result.exit_code == 0
    assert "4.weight" in result.stdout and "S_0.5" in result.stdout and "skipped 0.bias" in result.stdout


def test_pickled_module_gets_one_line_suggesting_the_state_dict(saved: dict[str, Path]) -> None:
    result = run(str(saved["module"]))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "state_dict" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "no such file"),
        (["{weights}", "--p", "0,-1"], "p: must be > 0"),
        (["{weights}", "--p", "abc"], "p: 'abc' is not a number"),
        (["{weights}", "--p", ""], "p: expected a comma-separated list"),
        (["{weights}", "--rtol", "x"], "rtol: 'x' is not a number"),
        (["{weights}", "--method", "qr"], "method: must be"),
        (["{junk}"], "not a readable torch checkpoint"),
    ],
)
def test_bad_input_exits_2_with_one_line(saved: dict[str, Path], tmp_path: Path, args: list[str], message: str) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    filled = [arg.format(missing=tmp_path / "absent.pt", weights=saved["state_dict"], junk=junk) for arg in args]
    result = run(*filled)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_parse_exponents_keeps_the_given_strings() -> None:
    assert parse_exponents(" 0.5, 1,inf") == [("0.5", 0.5), ("1", 1.0), ("inf", float("inf"))]
    with pytest.raises(ValueError, match="p: must be > 0"):
        parse_exponents([1, -2])

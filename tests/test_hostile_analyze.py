"""Hostile input to ``rankbound analyze`` and the spectral measures: extreme magnitudes, strict
JSON, non-dense tensors and matrices too large to analyse (issue 13, section 3).

Every probe is generated here; no row may hold inf or NaN for a finite matrix, and values float64
cannot hold are compared, as decimal strings, with an exact computation.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from numerics.measures.analyze import DEFAULT_MEMORY_LIMIT_GIB, analyze, memory_estimate
from numerics.measures.spectral import (
    binary_scaled,
    eckart_young_distance,
    effective_rank,
    numerical_rank,
    rank_proxy,
    schatten_quasinorm,
    spectrum,
    stable_rank,
)
from rankbound.cli import cli

getcontext().prec = 50
METHODS = ("auto", "svd", "gram")


def strict_json(text: str) -> object:
    """``json.loads`` that refuses the NaN / Infinity extensions."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def numbers(row: dict) -> list[object]:
    """Every numeric (or decimal-string) value of an analysis row."""
    values = [row[key] for key in ("spectral_norm", "frobenius_norm", "stable_rank", "rank_tolerance", "effective_rank")]
    return values + list(row["schatten"].values()) + list(row["rank_proxy"].values())


def assert_all_finite(row: dict) -> None:
    for value in numbers(row):
        assert isinstance(value, str) or math.isfinite(value), row


@pytest.mark.parametrize("method", METHODS)
def test_diagonal_with_a_huge_entry_keeps_its_frobenius_norm(method: str) -> None:
    """diag(1e160, 1, 1): squaring 1e160 overflows; the norms are 1e160 and the stable rank 1."""
    row = analyze({"w": torch.diag(torch.tensor([1e160, 1.0, 1.0], dtype=torch.float64))}, method=method).to_dict()["layers"][0]
    assert_all_finite(row)
    assert row["spectral_norm"] == pytest.approx(1e160, rel=1e-15)
    assert row["frobenius_norm"] == pytest.approx(1e160, rel=1e-15)
    assert row["stable_rank"] == pytest.approx(1.0, rel=1e-15) and row["effective_rank"] == pytest.approx(1.0, rel=1e-12)
    assert all(value == pytest.approx(1e160, rel=1e-12) for value in row["schatten"].values())
    assert row["rank"] == 1  # numpy's tolerance 3 eps 1e160 hides the unit entries


@pytest.mark.parametrize("method", ("auto", "svd"))
def test_norms_beyond_float64_are_exact_decimal_strings(method: str) -> None:
    """A 3 x 4 matrix of 1e308: sigma_1 = ||A||_F = sqrt(12) 1e308 > float64's maximum, rank 1."""
    row = analyze({"w": torch.full((3, 4), 1e308, dtype=torch.float64)}, method=method).to_dict()["layers"][0]
    assert_all_finite(row)
    exact = Decimal(1e308) * Decimal(12).sqrt()
    for value in (row["spectral_norm"], row["frobenius_norm"], *row["schatten"].values()):
        assert isinstance(value, str) and abs(Decimal(value) / exact - 1) < Decimal("1e-14"), value
    assert row["rank"] == 1 and row["stable_rank"] == pytest.approx(1.0) and row["effective_rank"] == pytest.approx(1.0)
    assert row["rank_tolerance"] == pytest.approx(float(4 * Decimal(np.finfo(np.float64).eps) * exact), rel=1e-14)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("power", [-1060, -1000, -500, 500, 1000])
def test_scaling_by_a_power_of_two_scales_every_norm_exactly(method: str, power: int) -> None:
    """A = 2^k G gives the same scaled matrix as G: the rows agree exactly, norms times 2^k.

    At k = -1060 the entries are subnormal and keep about 14 bits: G is taken as A's exact values.
    """
    A = np.ldexp(np.random.default_rng(7).standard_normal((6, 4)), power)
    reference = analyze({"w": torch.as_tensor(np.ldexp(A, -power))}, method=method).layers[0]
    scaled = analyze({"w": torch.as_tensor(A)}, method=method).layers[0]
    assert scaled.rank == reference.rank and scaled.stable_rank == reference.stable_rank
    assert scaled.rank_proxy == reference.rank_proxy and scaled.effective_rank == reference.effective_rank
    for mine, theirs in [
        (scaled.spectral_norm, reference.spectral_norm),
        (scaled.frobenius_norm, reference.frobenius_norm),
        *zip(scaled.schatten.values(), reference.schatten.values()),
    ]:
        expected = Decimal(theirs) * Decimal(2) ** power
        assert abs(Decimal(mine) / expected - 1) < Decimal("1e-16") * 4, (mine, expected)


def test_tiny_matrices_do_not_underflow() -> None:
    """diag(1e-300, 1e-310): ||A||_F was 0 when squared directly; 5e-324 alone is a subnormal norm."""
    row = analyze({"w": torch.tensor([[1e-300, 0.0], [0.0, 1e-310]], dtype=torch.float64)}, method="svd").to_dict()["layers"][0]
    assert row["frobenius_norm"] == pytest.approx(1e-300, rel=1e-15) and row["spectral_norm"] == pytest.approx(1e-300, rel=1e-15)
    assert row["rank"] == 2 and row["stable_rank"] == pytest.approx(1 + 1e-20, rel=1e-15)
    # a tolerance below float64's normal range is stated with all its digits, not as a rounded subnormal
    assert isinstance(row["rank_tolerance"], str)
    assert abs(Decimal(row["rank_tolerance"]) / (2 * Decimal(np.finfo(np.float64).eps) * Decimal(1e-300)) - 1) < Decimal("1e-15")
    (smallest,) = analyze({"w": torch.tensor([[5e-324]], dtype=torch.float64)}).to_dict()["layers"]
    assert smallest["spectral_norm"] == "4.9406564584124654e-324" and smallest["rank"] == 1


def test_schatten_norms_of_small_p_beyond_float64() -> None:
    """||I_10||_{S_p} = 10^(1/p): a string for p = 0.001, and the library's float overflows to inf
    only when the norm itself does (2^-1000 I_10 at p = 1/400 is about 9.3e98)."""
    (row,) = analyze({"w": torch.eye(10, dtype=torch.float64)}, p="0.001,1").to_dict()["layers"]
    assert Decimal(row["schatten"]["0.001"]) == pytest.approx(Decimal(10) ** 1000, rel=Decimal("1e-12"))
    assert row["schatten"]["1"] == pytest.approx(10.0)
    assert schatten_quasinorm(np.eye(10), 0.001) == math.inf
    tiny = np.ldexp(np.eye(10), -1000)
    exact = Decimal(2) ** -1000 * Decimal(10) ** 400
    assert Decimal(schatten_quasinorm(tiny, 1 / 400)) == pytest.approx(exact, rel=Decimal("1e-12"))


def test_spectral_functions_stay_finite_at_both_ends_of_the_range() -> None:
    """Against the same matrices at unit scale: the scale-free measures agree, norms scale."""
    rng = np.random.default_rng(3)
    for power in (-1040, 1000):
        A = np.ldexp(rng.standard_normal((8, 5)), power)
        base = np.ldexp(A, -power)  # A's exact values at unit scale (subnormal at 2^-1040)
        assert stable_rank(A) == stable_rank(base) and effective_rank(A) == effective_rank(base)
        assert rank_proxy(A, 0.5) == rank_proxy(base, 0.5) and numerical_rank(A).rank == numerical_rank(base).rank
        assert eckart_young_distance(A, 2) == np.ldexp(eckart_young_distance(base, 2), power)
        assert spectrum(A, "gram").relative_error == spectrum(base, "gram").relative_error
        np.testing.assert_array_equal(spectrum(A).sigma, np.ldexp(spectrum(base).sigma, power))
    huge = np.full((2, 2), 1e308)
    assert spectrum(huge).top == math.inf  # 2e308 is beyond float64: the only inf left, and stated as such
    assert stable_rank(huge) == 1.0 and numerical_rank(huge).rank == 1
    scaled, exponent = binary_scaled(np.array([[[0.0, 0.0]], [[3.0, -1e308]]]))
    np.testing.assert_array_equal(exponent, [0, 1024])
    assert np.abs(scaled[1]).max() == math.ldexp(1e308, -1024) and np.all(scaled[0] == 0)


def test_eckart_young_tail_of_tiny_singular_values() -> None:
    """Tail singular values near 1e-170 of sigma_1: their squares underflow unless rescaled."""
    A = np.diag([1.0, 3e-170, 4e-170])
    assert eckart_young_distance(A, 1) == pytest.approx(5e-170, rel=1e-14)


def run(*args: str):
    return CliRunner().invoke(cli, ["analyze", *args])


@pytest.fixture
def hostile_checkpoint(tmp_path: Path) -> Path:
    """A state_dict of extreme, sparse, meta, quantized and nested tensors beside a normal one."""
    path = tmp_path / "hostile.pt"
    torch.save(
        {
            "huge": torch.diag(torch.tensor([1e160, 1.0, 1.0], dtype=torch.float64)),
            "overflowing": torch.full((3, 4), 1e308, dtype=torch.float64),
            "rank_deficient": torch.ones(4, 3, dtype=torch.float64),
            "normal": torch.randn(5, 4),
            "sparse_coo": torch.eye(3).to_sparse(),
            "sparse_csr": torch.eye(3).to_sparse_csr(),
            "meta": torch.empty(3, 3, device="meta"),
            "quantized": torch.quantize_per_tensor(torch.randn(3, 3), 0.1, 0, torch.qint8),
            # 40000 x 40000 from one stored element: tiny on disk, 59.6 GiB to analyse
            "broadcast": torch.zeros(1, 1).expand(40000, 40000),
        },
        path,
    )
    return path


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("method", METHODS)
def test_cli_json_is_strict_and_skips_what_it_cannot_analyse(hostile_checkpoint: Path, method: str) -> None:
    result = run(str(hostile_checkpoint), "--json", "--method", method)
    assert result.exit_code == 0, result.output
    payload = strict_json(result.stdout)
    rows = {row["name"]: row for row in payload["layers"]}
    assert set(rows) == {"huge", "overflowing", "rank_deficient", "normal"}
    for row in rows.values():
        assert_all_finite(row)
    if method == "gram":  # the Gram bound of a rank-deficient matrix is infinite: stated as the string "inf"
        assert rows["rank_deficient"]["singular_value_relative_error"] == "inf"
    skipped = {entry["name"]: entry["reason"] for entry in payload["skipped"]}
    assert "sparse_coo layout" in skipped["sparse_coo"] and "sparse_csr layout" in skipped["sparse_csr"]
    assert "meta tensor" in skipped["meta"] and "quantized dtype torch.qint8" in skipped["quantized"]
    assert "59.6 GiB" in skipped["broadcast"] and f"limit of {DEFAULT_MEMORY_LIMIT_GIB:g} GiB" in skipped["broadcast"]
    assert "--memory-limit" in skipped["broadcast"]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_cli_table_prints_no_inf_or_nan(hostile_checkpoint: Path) -> None:
    result = run(str(hostile_checkpoint))
    assert result.exit_code == 0, result.output
    words = result.stdout.lower().replace("inf)", "").split()
    assert not {"inf", "nan", "-inf"} & set(words), result.stdout
    assert "3.4641016151377545e+308" in result.stdout and "skipped broadcast" in result.stdout


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_nested_tensors_are_skipped() -> None:
    nested = torch.nested.nested_tensor([torch.randn(2, 3), torch.randn(4, 3)])
    result = analyze({"nested": nested, "w": torch.eye(2)})
    assert [row.name for row in result.layers] == ["w"]
    assert "nested tensor" in result.skipped[0].reason


def test_memory_limit_is_stated_and_can_be_raised() -> None:
    """300 x 200 needs 8 (3 * 60000 + 2 * 40000) bytes = 2.08 MB: above 1 MiB, below the default."""
    assert memory_estimate((300, 200)) == 8 * (3 * 60000 + 2 * 40000)
    weights = {"w": torch.randn(300, 200)}
    low = analyze(weights, memory_limit_gib=2**-10)
    assert low.layers == [] and "0.00194 GiB" in low.skipped[0].reason and "limit of 0.000976562 GiB" in low.skipped[0].reason
    assert [row.name for row in analyze(weights).layers] == ["w"]
    with pytest.raises(ValueError, match="memory_limit_gib: must be a finite number > 0"):
        analyze(weights, memory_limit_gib=float("nan"))


@pytest.mark.parametrize(("value", "message"), [("0", "must be a finite number > 0"), ("inf", "must be a finite number > 0"), ("lots", "'lots' is not a number")])
def test_bad_memory_limit_exits_2(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "w.pt"
    torch.save({"w": torch.eye(3)}, path)
    result = run(str(path), "--memory-limit", value)
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1

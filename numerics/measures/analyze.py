"""Spectral analysis of every weight matrix of a torch model (``rankbound analyze``).

One row per weight matrix: spectral and Frobenius norms, stable rank, Schatten-p
(quasi-)norms for the requested p, numerical rank with its tolerance, effective rank and rank
proxies r_p (definitions in :mod:`numerics.measures.spectral`). All values come from one
float64 spectrum of the stored tensor, computed by :func:`~numerics.measures.spectral.spectrum`
with ``method="auto"`` by default: eigenvalues of the Gram matrix where their error bound
guarantees every singular value to a relative 1e-6, LAPACK SVD otherwise; each row says which
(``singular_values``) and the bound (``singular_value_relative_error``, null for the SVD). The
Frobenius norm is computed from the entries. The numerical rank uses numpy's rule at the
machine epsilon of the stored dtype unless a tolerance is given.

Which tensors are analysed: dense floating tensors with at least two dimensions. A 2-D
tensor is the torch ``(out, in)`` matrix itself; a kernel with more dimensions (a
convolution's ``(out, in, kh, kw)``) is analysed as its ``(out, in*kh*kw)`` reshape, which the
row states: its spectral norm is that of the reshaped kernel, not the operator norm of the
convolution. Everything else (1-D biases and normalisation parameters, scalars, integer
buffers, non-tensors, non-finite tensors, sparse, nested, quantized and meta tensors) is
listed under ``skipped`` with the reason, and so is a matrix whose analysis would need more
than ``memory_limit_gib`` (:func:`memory_estimate`; default :data:`DEFAULT_MEMORY_LIMIT_GIB`).

Range: every value of a row is computed without over- or underflow for any finite matrix
(see :mod:`numerics.measures.spectral`). A norm or tolerance that float64 cannot hold (above
about 1.8e308 for entries near float64's largest, or below its smallest normal number
2.2e-308) is given as a decimal string of 17 significant digits, e.g.
``"3.4641016151377544e+308"``; the Gram method's error bound, infinite when a singular value
comes out as 0, is the string ``"inf"``. No row holds NaN or infinity, so ``to_dict`` is
strict JSON (``json.dumps(..., allow_nan=False)`` accepts it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from typing import Any

import mpmath
import numpy as np
import pandas as pd
import torch

from numerics.measures._inputs import check_exponent, host_array
from numerics.measures.checkpoint import named_values
from numerics.measures.spectral import (
    SPECTRUM_METHODS,
    binary_scaled,
    effective_rank,
    numerical_rank,
    rank_proxy,
    schatten_quasinorm,
    spectrum,
    stable_rank,
)

__all__ = ["Analysis", "LayerReport", "SkippedTensor", "analyze", "memory_estimate", "parse_exponents"]

DEFAULT_EXPONENTS = "0.5,1,2"
#: matrices whose :func:`memory_estimate` exceeds this many GiB are skipped unless the limit is raised
DEFAULT_MEMORY_LIMIT_GIB = 4.0
#: a value float64 holds at full precision: normal numbers
_NORMAL_RANGE = (float(np.finfo(np.float64).smallest_normal), float(np.finfo(np.float64).max))


@dataclass(frozen=True)
class LayerReport:
    """Spectral quantities of one weight matrix; ``schatten`` and ``rank_proxy`` map p (as given) to values.

    Norms and the tolerance are strings where float64 cannot hold them (module docstring).
    """

    name: str
    shape: list[int]
    matrix_shape: list[int]
    reshape: str | None
    dtype: str
    spectral_norm: float | str
    frobenius_norm: float | str
    stable_rank: float
    schatten: dict[str, float | str]
    rank: int
    rank_tolerance: float | str
    rank_rule: str
    effective_rank: float
    rank_proxy: dict[str, float]
    singular_values: str
    singular_value_relative_error: float | str | None


@dataclass(frozen=True)
class SkippedTensor:
    """A named entry that was not analysed, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Analysis:
    """The rows of :func:`analyze`; ``to_dict`` is what ``rankbound analyze --json`` prints."""

    layers: list[LayerReport]
    skipped: list[SkippedTensor]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {"layers": [asdict(row) for row in self.layers], "skipped": [asdict(row) for row in self.skipped]}

    def to_frame(self) -> pd.DataFrame:
        """One row per analysed matrix; ``schatten`` and ``rank_proxy`` become ``S_p`` / ``r_p`` columns."""
        records = []
        for row in self.layers:
            record = {key: value for key, value in asdict(row).items() if key not in ("schatten", "rank_proxy")}
            record.update({f"S_{p}": value for p, value in row.schatten.items()})
            record.update({f"r_{p}": value for p, value in row.rank_proxy.items()})
            records.append(record)
        return pd.DataFrame.from_records(records)


def parse_exponents(p: str | Sequence[str | float]) -> list[tuple[str, float]]:
    """``"0.5,1,2"`` or ``[0.5, 1, 2]`` -> ``[("0.5", 0.5), ("1", 1.0), ("2", 2.0)]``; "inf" is allowed.

    Raises ValueError naming ``p`` for an empty list, a non-number, NaN, or p <= 0.
    """
    items = [item.strip() for item in p.split(",")] if isinstance(p, str) else [str(item) for item in p]
    if not items or any(item == "" for item in items):
        raise ValueError(f"p: expected a comma-separated list of numbers > 0, got {p!r}")
    parsed = []
    for item in items:
        try:
            value = float(item)
        except ValueError:
            raise ValueError(f"p: {item!r} is not a number (expected numbers > 0, e.g. 0.5,1,2)") from None
        parsed.append((item, check_exponent(value, "p")))
    return parsed


def analyze(
    source: str | PathLike[str] | torch.nn.Module | Mapping[str, Any],
    p: str | Sequence[str | float] = DEFAULT_EXPONENTS,
    rtol: float | None = None,
    atol: float | None = None,
    method: str = "auto",
    memory_limit_gib: float = DEFAULT_MEMORY_LIMIT_GIB,
) -> Analysis:
    """Analyse every weight matrix of ``source`` (checkpoint path, module or mapping of tensors).

    ``rtol``/``atol`` set the numerical-rank tolerance ``max(atol, rtol * sigma_1)``; by default
    numpy's ``max(m, n) * eps`` of the stored dtype. ``method`` is passed to
    :func:`~numerics.measures.spectral.spectrum` (``"auto"``, ``"svd"`` or ``"gram"``). A matrix
    whose :func:`memory_estimate` exceeds ``memory_limit_gib`` GiB is skipped with the estimate.
    """
    exponents = parse_exponents(p)
    if method not in SPECTRUM_METHODS:
        raise ValueError(f"method: must be one of {', '.join(SPECTRUM_METHODS)}, got {method!r}")
    limit = float(memory_limit_gib)
    if not math.isfinite(limit) or limit <= 0:
        raise ValueError(f"memory_limit_gib: must be a finite number > 0, got {memory_limit_gib!r}")
    layers, skipped = [], []
    for name, value in named_values(source).items():
        reason = _skip_reason(value, limit)
        if reason is not None:
            skipped.append(SkippedTensor(name, reason))
            continue
        layers.append(_layer_report(name, value, exponents, rtol, atol, method))
    return Analysis(layers, skipped)


def memory_estimate(shape: Sequence[int]) -> int:
    """Bytes the analysis of an ``(m, n)`` matrix holds at its peak, beyond the stored tensor.

    ``8 (3 m n + 2 k^2)``, k = min(m, n): float64 copies of the matrix, of its power-of-two
    scaling and of the LAPACK input (or the Gram method's temporary), and the k x k Gram
    matrix with the eigensolver's copy of it.
    """
    m, n = int(shape[0]), int(shape[1])
    return 8 * (3 * m * n + 2 * min(m, n) ** 2)


def _skip_reason(value: Any, memory_limit_gib: float) -> str | None:
    """Why ``value`` is not analysed, or None when it is a weight matrix or kernel."""
    if not isinstance(value, torch.Tensor):
        return f"not a tensor ({type(value).__name__})"
    if value.layout != torch.strided:
        return f"{str(value.layout).removeprefix('torch.')} layout: only dense tensors are analysed (convert with .to_dense())"
    if value.is_nested:
        return "nested tensor (rows of different lengths): not a matrix"
    if value.is_meta:
        return "meta tensor: it has a shape but no values"
    if value.is_quantized:
        return f"quantized dtype {value.dtype}: dequantize() it to analyse it"
    if value.is_complex():
        return f"complex dtype {value.dtype} not supported"
    if not value.is_floating_point():
        return f"non-floating dtype {value.dtype} (integer or boolean buffer)"
    if value.ndim == 0:
        return "scalar"
    if value.ndim == 1:
        return "1-D tensor (bias or normalisation parameter)"
    if value.numel() == 0:
        return f"empty tensor of shape {list(value.shape)}"
    need = memory_estimate((value.shape[0], value.numel() // value.shape[0]))
    if need > memory_limit_gib * 2**30:
        return (
            f"its analysis needs about {need / 2**30:.3g} GiB (8 (3 m n + 2 min(m, n)^2) bytes), above the limit of "
            f"{memory_limit_gib:g} GiB (raise it with --memory-limit / memory_limit_gib)"
        )
    if not np.isfinite(host_array(value)).all():
        return "contains NaN or infinite entries"
    return None


def _layer_report(
    name: str,
    tensor: torch.Tensor,
    exponents: list[tuple[str, float]],
    rtol: float | None,
    atol: float | None,
    method: str,
) -> LayerReport:
    matrix = tensor if tensor.ndim == 2 else tensor.reshape(tensor.shape[0], -1)
    reshape = None
    if tensor.ndim > 2:
        reshape = (
            f"kernel (out, in, {', '.join(f'k{i + 1}' for i in range(tensor.ndim - 2))}) analysed as its "
            f"(out, in*{'*'.join(f'k{i + 1}' for i in range(tensor.ndim - 2))}) reshape; norms are those of the "
            "reshaped kernel, not the operator norm of the convolution"
        )
    s = spectrum(matrix, method)
    rank = numerical_rank(s, rtol=rtol, atol=atol)
    entries, entries_exponent = binary_scaled(np.asarray(host_array(matrix), dtype=np.float64))
    # norms in an unbounded exponent range: 2^e times those of the scaled matrix
    sigma_1 = _WIDE.ldexp(float(s.scaled[0]), int(s.exponent))
    proxies = {label: rank_proxy(s, value) for label, value in exponents}
    error = s.relative_error
    return LayerReport(
        name=name,
        shape=list(tensor.shape),
        matrix_shape=list(matrix.shape),
        reshape=reshape,
        dtype=str(tensor.dtype).removeprefix("torch."),
        spectral_norm=_stated(sigma_1),
        frobenius_norm=_stated(_WIDE.ldexp(float(np.linalg.norm(entries)), int(entries_exponent))),
        stable_rank=stable_rank(s),
        schatten={label: _stated(_schatten(sigma_1, proxies[label], value)) for label, value in exponents},
        rank=rank.rank,
        rank_tolerance=_stated(max(_WIDE.mpf(rank.atol), rank.rtol * sigma_1)),
        rank_rule=rank.rule,
        effective_rank=effective_rank(s),
        rank_proxy=proxies,
        singular_values=s.method,
        singular_value_relative_error=error if error is None or math.isfinite(error) else "inf",
    )


#: a private mpmath context (53 bits, the global one untouched) for values past float64's exponent range
_WIDE = mpmath.MPContext()


def _schatten(sigma_1: mpmath.mpf, r_p: float, p: float) -> mpmath.mpf:
    """``||A||_{S_p} = sigma_1 r_p^(1/p)`` (:func:`~numerics.measures.spectral.schatten_quasinorm`), ``sigma_1`` for p = inf."""
    return sigma_1 if math.isinf(p) else sigma_1 * _WIDE.power(r_p, 1 / _WIDE.mpf(p))


def _stated(value: mpmath.mpf) -> float | str:
    """``value`` as a float where float64 holds it at full precision (0 or a normal number), else
    as a decimal string of 17 significant digits."""
    number = float(value)
    if (number == 0 and value == 0) or _NORMAL_RANGE[0] <= abs(number) <= _NORMAL_RANGE[1]:
        return number
    return _WIDE.nstr(value, 17)

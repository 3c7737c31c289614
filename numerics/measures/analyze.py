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

Which tensors are analysed: floating tensors with at least two dimensions. A 2-D tensor is
the torch ``(out, in)`` matrix itself; a kernel with more dimensions (a convolution's
``(out, in, kh, kw)``) is analysed as its ``(out, in*kh*kw)`` reshape, which the row states:
its spectral norm is that of the reshaped kernel, not the operator norm of the convolution.
Everything else (1-D biases and normalisation parameters, scalars, integer buffers,
non-tensors, non-finite tensors) is listed under ``skipped`` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
import torch

from numerics.measures._inputs import check_exponent, host_array
from numerics.measures.checkpoint import named_values
from numerics.measures.spectral import (
    SPECTRUM_METHODS,
    effective_rank,
    numerical_rank,
    rank_proxy,
    schatten_quasinorm,
    spectrum,
    stable_rank,
)

__all__ = ["Analysis", "LayerReport", "SkippedTensor", "analyze", "parse_exponents"]

DEFAULT_EXPONENTS = "0.5,1,2"


@dataclass(frozen=True)
class LayerReport:
    """Spectral quantities of one weight matrix; ``schatten`` and ``rank_proxy`` map p (as given) to values."""

    name: str
    shape: list[int]
    matrix_shape: list[int]
    reshape: str | None
    dtype: str
    spectral_norm: float
    frobenius_norm: float
    stable_rank: float
    schatten: dict[str, float]
    rank: int
    rank_tolerance: float
    rank_rule: str
    effective_rank: float
    rank_proxy: dict[str, float]
    singular_values: str
    singular_value_relative_error: float | None


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
) -> Analysis:
    """Analyse every weight matrix of ``source`` (checkpoint path, module or mapping of tensors).

    ``rtol``/``atol`` set the numerical-rank tolerance ``max(atol, rtol * sigma_1)``; by default
    numpy's ``max(m, n) * eps`` of the stored dtype. ``method`` is passed to
    :func:`~numerics.measures.spectral.spectrum` (``"auto"``, ``"svd"`` or ``"gram"``).
    """
    exponents = parse_exponents(p)
    if method not in SPECTRUM_METHODS:
        raise ValueError(f"method: must be one of {', '.join(SPECTRUM_METHODS)}, got {method!r}")
    layers, skipped = [], []
    for name, value in named_values(source).items():
        reason = _skip_reason(value)
        if reason is not None:
            skipped.append(SkippedTensor(name, reason))
            continue
        layers.append(_layer_report(name, value, exponents, rtol, atol, method))
    return Analysis(layers, skipped)


def _skip_reason(value: Any) -> str | None:
    """Why ``value`` is not analysed, or None when it is a weight matrix or kernel."""
    if not isinstance(value, torch.Tensor):
        return f"not a tensor ({type(value).__name__})"
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
    entries = np.asarray(host_array(matrix), dtype=np.float64)
    return LayerReport(
        name=name,
        shape=list(tensor.shape),
        matrix_shape=list(matrix.shape),
        reshape=reshape,
        dtype=str(tensor.dtype).removeprefix("torch."),
        spectral_norm=float(s.top),
        frobenius_norm=float(np.linalg.norm(entries)),
        stable_rank=stable_rank(s),
        schatten={label: schatten_quasinorm(s, value) for label, value in exponents},
        rank=rank.rank,
        rank_tolerance=rank.tolerance,
        rank_rule=rank.rule,
        effective_rank=effective_rank(s),
        rank_proxy={label: rank_proxy(s, value) for label, value in exponents},
        singular_values=s.method,
        singular_value_relative_error=s.relative_error,
    )

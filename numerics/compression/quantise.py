"""Codebooks: the few dyadic values a quantised tensor takes, and how weights map onto them.

A :class:`Codebook` of ``K`` levels holds integers ``m_1 .. m_K`` (the mantissas, each with
``|m_k| < 2^B``) and one exponent ``e``; level ``k`` is the exact dyadic number ``m_k 2^e``.
Dyadic levels keep the decoded network exactly computable in integer arithmetic
(:mod:`numerics.compression.network`). A quantised tensor is an array of level indices.

Levels are fitted by one-dimensional k-means (Lloyd's iterations from quantile starts) with
one level pinned at 0, so that weights decayed to nothing cost the entropy coder the least,
then rounded to ``B``-bit mantissas under the exponent of the largest level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Lloyd iterations of the one-dimensional k-means
LLOYD_ITERATIONS = 50


@dataclass(frozen=True)
class Codebook:
    """Levels ``m_k 2^exponent`` (see the module docstring)."""

    mantissas: tuple[int, ...]
    exponent: int

    def __post_init__(self) -> None:
        if not self.mantissas:
            raise ValueError("a codebook needs at least one level")

    @property
    def levels(self) -> int:
        return len(self.mantissas)

    @property
    def values(self) -> np.ndarray:
        """The levels as float64 (exact: small integers times a power of two)."""
        return np.ldexp(np.array(self.mantissas, dtype=np.float64), self.exponent)

    def assign(self, weights: np.ndarray) -> np.ndarray:
        """Index of the nearest level of every weight (the lower index at a tie)."""
        distance = np.abs(np.asarray(weights, dtype=np.float64)[..., None] - self.values)
        return np.argmin(distance, axis=-1).astype(np.int64)


def kmeans_centers(values: np.ndarray, levels: int, *, pin_zero: bool = True) -> np.ndarray:
    """``levels`` centers of a one-dimensional k-means of ``values`` (one pinned at 0)."""
    data = np.asarray(values, dtype=np.float64).ravel()
    if levels < 1:
        raise ValueError(f"levels={levels}: must be >= 1")
    if data.size == 0:
        return np.zeros(levels)
    centers = np.quantile(data, (np.arange(levels) + 0.5) / levels)
    pinned = int(np.argmin(np.abs(centers))) if pin_zero else -1
    if pin_zero:
        centers[pinned] = 0.0
    for _ in range(LLOYD_ITERATIONS):
        nearest = np.argmin(np.abs(data[:, None] - centers[None, :]), axis=1)
        updated = centers.copy()
        for level in range(levels):
            members = data[nearest == level]
            if level != pinned and members.size:
                updated[level] = members.mean()
        if np.array_equal(updated, centers):
            break
        centers = updated
    return np.sort(centers)


def dyadic_codebook(centers: np.ndarray, mantissa_bits: int) -> Codebook:
    """The centers rounded to ``mantissa_bits``-bit mantissas under one shared exponent."""
    if mantissa_bits < 1:
        raise ValueError(f"mantissa_bits={mantissa_bits}: must be >= 1")
    centers = np.asarray(centers, dtype=np.float64)
    if not np.all(np.isfinite(centers)):
        raise ValueError("codebook centers must be finite")
    largest = float(np.max(np.abs(centers))) if centers.size else 0.0
    if largest == 0.0:
        return Codebook(tuple(0 for _ in centers), 0)
    exponent = math.frexp(largest)[1] - mantissa_bits  # largest / 2^exponent in [2^(B-1), 2^B)
    limit = (1 << mantissa_bits) - 1
    mantissas = np.clip(np.rint(np.ldexp(centers, -exponent)), -limit, limit).astype(np.int64)
    return Codebook(tuple(int(m) for m in mantissas), exponent)

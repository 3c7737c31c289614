"""Spectral quantities of weight matrices, all computed from float64 singular values.

The singular values come from LAPACK's SVD unless :func:`spectrum` is asked for the faster
Gram-matrix method, whose error bound it records.

For ``A`` in R^{m x n} with singular values sigma_1 >= ... >= sigma_k >= 0, k = min(m, n):

* Schatten-p (quasi-)norm ``||A||_{S_p} = (sum_i sigma_i^p)^(1/p)`` for p > 0, a norm for
  p >= 1 and a quasi-norm for p < 1; ``||A||_{S_inf} = sigma_1`` (notes-ledent I.2, [C]);
* rank proxy ``r_p(A) = sum_i (sigma_i / sigma_1)^p``, with ``1 <= r_p <= rank(A)`` and
  ``r_2`` the stable rank (notes-ledent I.2, [P]);
* stable rank ``||A||_F^2 / ||A||_2^2`` (Chen et al. experiments, notes-chen-oymak A.10, [R+]);
* numerical rank ``#{i : sigma_i > tol}`` at a recorded tolerance;
* effective rank ``exp(H(q))``, ``q_i = sigma_i / sum_j sigma_j`` (Roy & Vetterli 2007, [M]);
* Eckart-Young distance to the nearest rank-r matrix, ``(sum_{i>r} sigma_i^2)^(1/2)``, used by
  Proposition P1 (notes-chen-oymak A.8, [P]).

Every function accepts a matrix (``ndim >= 2``; leading dimensions are a batch) or a
:class:`Spectrum` computed once with :func:`spectrum`. Results are floats for a single
matrix and arrays of the batch shape otherwise.

Accuracy: LAPACK returns each singular value with an absolute error of about eps * sigma_1, so
a singular value that is zero in exact arithmetic comes out near 1e-16 sigma_1. For p < 1 such
a value still adds (1e-16)^p to r_p (1e-4 at p = 1/4): quasi-norms of rank-deficient matrices
carry that floor, and the numerical rank (with its recorded tolerance) is the robust count.

Range: every matrix is first scaled by a power of two, ``A = 2^e A_s`` with the largest
``|a_ij|`` of ``A_s`` in [1/2, 1) (:func:`binary_scaled`), and its singular values are computed
from ``A_s``: nothing is squared or summed near the ends of the float64 range, so a finite
matrix never yields inf or NaN for a quantity float64 can hold. Scale-free quantities (stable
rank, rank proxies, effective rank, numerical rank) come from ``A_s`` alone; norms are
``2^e`` times those of ``A_s``, and are inf only where the true value exceeds float64's range
(about 1.8e308, e.g. the spectral norm of a matrix of entries 1e308). :class:`Spectrum` keeps
``A_s``'s singular values and ``e`` apart, so callers can state such values exactly.

Convention: the rank surrogates (stable rank, rank proxy, effective rank) of the zero matrix
are 0, like its rank, so that no 0/0 ever occurs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from numerics.measures._inputs import as_float64_array, check_exponent, check_nonnegative

__all__ = [
    "GRAM_RELATIVE_ACCURACY",
    "SPECTRUM_METHODS",
    "NumericalRank",
    "Spectrum",
    "binary_scaled",
    "eckart_young_distance",
    "effective_rank",
    "numerical_rank",
    "rank_proxy",
    "schatten_quasinorm",
    "singular_values",
    "spectrum",
    "stable_rank",
]

FLOAT64_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Spectrum:
    """Singular values of a matrix or a batch of matrices, as ``sigma = scaled * 2**exponent``.

    Attributes:
        scaled: float64 array ``(..., k)``, each row sorted in decreasing order: the singular
            values of the matrix divided by ``2**exponent`` (those of ``A_s``, see the module
            docstring), so every row's largest value lies in about [1/2, sqrt(m n)].
        exponent: integer array of the batch shape (0-d for one matrix): the power of two.
        shape: ``(m, n)`` of the matrices they belong to (sets numpy's default rank tolerance).
        eps: machine epsilon of the matrices' stored dtype (float64's when unknown).
        method: how sigma was obtained: ``"svd"`` (LAPACK, absolute error about eps * sigma_1),
            ``"gram"`` (eigenvalues of the smaller Gram matrix) or ``"given"``.
        relative_error: for ``"gram"``, a bound on ``|sigma_hat_i - sigma_i| / sigma_hat_i`` that
            holds for every i (see :func:`spectrum`); None otherwise.
    """

    scaled: np.ndarray
    exponent: np.ndarray
    shape: tuple[int, int]
    eps: float = FLOAT64_EPS
    method: str = "given"
    relative_error: float | None = None

    @classmethod
    def from_values(cls, sigma: Any, shape: tuple[int, int] | None = None, eps: float = FLOAT64_EPS) -> Spectrum:
        """Wrap given singular values (any order, nonnegative); ``shape`` defaults to (k, k)."""
        values = as_float64_array(sigma, "sigma", min_ndim=1)
        if np.any(values < 0):
            raise ValueError("sigma: singular values must be >= 0")
        k = values.shape[-1]
        if k == 0:
            raise ValueError("sigma: must contain at least one singular value")
        shape = (k, k) if shape is None else (int(shape[0]), int(shape[1]))
        if min(shape) != k:
            raise ValueError(f"shape: min(shape) must equal the number of singular values {k}, got {shape}")
        scaled, exponent = binary_scaled(values[..., None, :])
        return cls(np.flip(np.sort(scaled[..., 0, :], axis=-1), axis=-1), exponent, shape, float(eps), "given")

    @property
    def sigma(self) -> np.ndarray:
        """The singular values, float64 ``(..., k)``; inf where one exceeds float64's range."""
        return _unscaled(self.scaled, self.exponent[..., None])

    @property
    def top(self) -> np.ndarray:
        """sigma_1, the spectral norm (batch shape); inf beyond float64's range."""
        return _unscaled(self.scaled[..., 0], self.exponent)


def binary_scaled(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A_s, e)`` with ``A = 2^e A_s`` for every matrix of ``A`` (``(..., m, n)``, finite float64).

    ``e`` (integer array of the batch shape) puts the largest ``|a_ij|`` of each ``A_s`` in
    [1/2, 1); ``e = 0`` for a zero matrix. Multiplying by a power of two is exact, except that
    entries below ``2^-1022`` of ``2^e`` (about 1e-308 of the largest) become subnormal or zero
    and are rounded: an absolute change of at most ``2^-1075`` per entry of ``A_s``, some 1e-323
    of its spectral norm, which is >= 1/2.
    """
    _, exponent = np.frexp(np.max(np.abs(A), axis=(-2, -1)))
    return np.ldexp(A, -exponent[..., None, None]), exponent.astype(np.int64)


def _unscaled(values: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """``values * 2**exponent``; inf past float64's range, as IEEE arithmetic rounds."""
    with np.errstate(over="ignore"):
        return np.ldexp(values, exponent)


#: the ways :func:`spectrum` can compute singular values
SPECTRUM_METHODS = ("auto", "svd", "gram")
#: the "auto" method accepts Gram eigenvalues when every singular value is this accurate (relative)
GRAM_RELATIVE_ACCURACY = 1e-6


def spectrum(A: Any, method: str = "svd") -> Spectrum:
    """Singular values of ``A`` (``(..., m, n)``, array or tensor) in float64.

    Methods:
        ``"svd"``: LAPACK divide-and-conquer SVD (``np.linalg.svd``), the reference.
        ``"gram"``: square roots of the eigenvalues of ``G = A A^T`` or ``A^T A`` (whichever is
            k x k, k = min(m, n)), several times faster for large matrices. With
            ``delta = 2 (max(m, n) + k) eps ||A||_F^2``, which bounds the rounding of the Gram
            product and of the symmetric eigensolver, ``|lambda_hat - lambda| <= delta`` and so
            ``|sigma_hat_i - sigma_i| <= delta / sigma_hat_i``: accurate for the large singular
            values, not for those below about ``sqrt(delta)``. The bound
            ``max_i delta / sigma_hat_i^2`` is recorded as ``relative_error`` (inf when some
            ``sigma_hat_i = 0``).
        ``"auto"``: ``"gram"`` when its recorded bound is at most :data:`GRAM_RELATIVE_ACCURACY`
            for every matrix, else ``"svd"``.

    Both work on the scaled matrices ``A_s`` of :func:`binary_scaled`. The bound above holds for
    them unchanged: ``delta >= 2 (m + n) eps / 4`` once the largest entry is at least 1/2, while
    the absolute errors of scaling, underflow in the Gram product and the eigensolver's
    underflow are all of order ``(m n) 2^-1074``, some 1e290 times smaller; relative errors do
    not change under the exact rescaling by ``2^e``.
    """
    if isinstance(A, Spectrum):
        return A
    if method not in SPECTRUM_METHODS:
        raise ValueError(f"method: must be one of {', '.join(SPECTRUM_METHODS)}, got {method!r}")
    eps = _dtype_eps(A)
    matrix = as_float64_array(A, "A", min_ndim=2)
    if 0 in matrix.shape[-2:]:
        raise ValueError(f"A: matrices must be non-empty, got shape {matrix.shape}")
    shape = (matrix.shape[-2], matrix.shape[-1])
    scaled, exponent = binary_scaled(matrix)
    if method != "svd":
        sigma, relative_error = _gram_singular_values(scaled)
        if method == "gram" or relative_error <= GRAM_RELATIVE_ACCURACY:
            return Spectrum(sigma, exponent, shape, eps, "gram", relative_error)
    return Spectrum(np.linalg.svd(scaled, compute_uv=False), exponent, shape, eps, "svd")


def _gram_singular_values(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Singular values from the smaller Gram matrix, and the relative error bound of :func:`spectrum`."""
    m, n = matrix.shape[-2:]
    transposed = np.swapaxes(matrix, -1, -2)
    gram = matrix @ transposed if m <= n else transposed @ matrix
    eigenvalues = np.clip(np.flip(np.linalg.eigvalsh(gram), axis=-1), 0.0, None)
    delta = 2 * (max(m, n) + min(m, n)) * FLOAT64_EPS * np.sum(matrix * matrix, axis=(-2, -1))
    smallest = eigenvalues[..., -1]
    if np.any(smallest <= 0):
        return np.sqrt(eigenvalues), math.inf
    return np.sqrt(eigenvalues), float(np.max(delta / smallest))


def singular_values(A: Any) -> np.ndarray:
    """Singular values of ``A`` in decreasing order, float64, shape ``(..., min(m, n))``."""
    return spectrum(A).sigma


def schatten_quasinorm(A: Any, p: float) -> float | np.ndarray:
    """Schatten-p (quasi-)norm ``(sum sigma_i^p)^(1/p)``; ``p = inf`` gives sigma_1.

    Evaluated as ``sigma_1 * r_p^(1/p)`` so that no power of a large or small singular
    value over- or underflows; inf only where the norm itself exceeds float64's range.
    """
    s = spectrum(A)
    p = check_exponent(p)
    if math.isinf(p):
        return _out(s.top)
    ratio_sum = _ratio_power_sum(s, p)
    with np.errstate(over="ignore"):
        factor = ratio_sum ** (1.0 / p)
        # past float64 (p near 0): r_p^(1/p) = 2^whole * 2^fraction, whole capped beyond any float64 exponent
        log2_factor = np.log2(np.maximum(ratio_sum, 1.0)) / p  # r_p >= 1 unless A = 0
        whole = np.where(np.isfinite(factor), 0.0, np.minimum(np.floor(log2_factor), 4096.0))
        mantissa = np.where(np.isfinite(factor), factor, np.exp2(log2_factor - whole))
        return _out(_unscaled(s.scaled[..., 0] * mantissa, s.exponent + whole.astype(np.int64)))


def rank_proxy(A: Any, p: float) -> float | np.ndarray:
    """``r_p = sum_i (sigma_i / sigma_1)^p = ||A||_{S_p}^p / ||A||_{S_inf}^p`` (notes-ledent I.2, [P]).

    ``p = inf`` gives the multiplicity of sigma_1 (ties counted exactly).
    """
    s = spectrum(A)
    p = check_exponent(p)
    if math.isinf(p):
        top = s.scaled[..., :1]
        return _out(np.where(top[..., 0] > 0, np.sum(s.scaled == top, axis=-1), 0).astype(np.float64))
    return _out(_ratio_power_sum(s, p))


def stable_rank(A: Any) -> float | np.ndarray:
    """Stable rank ``||A||_F^2 / ||A||_2^2 = sum_i (sigma_i / sigma_1)^2`` (0 for the zero matrix)."""
    return _out(_ratio_power_sum(spectrum(A), 2.0))


def effective_rank(A: Any) -> float | np.ndarray:
    """Effective rank of Roy & Vetterli (2007): ``exp(-sum_i q_i log q_i)``, ``q = sigma / sum(sigma)``.

    Equals k when the k nonzero singular values are equal; 0 for the zero matrix.
    """
    s = spectrum(A)
    total = s.scaled.sum(axis=-1, keepdims=True)
    q = np.divide(s.scaled, total, out=np.zeros_like(s.scaled), where=total > 0)
    log_q = np.log(q, out=np.zeros_like(q), where=q > 0)
    entropy = -np.sum(q * log_q, axis=-1)
    return _out(np.where(total[..., 0] > 0, np.exp(entropy), 0.0))


def eckart_young_distance(A: Any, r: int) -> float | np.ndarray:
    """``min_{rank B <= r} ||A - B||_F = (sum_{i > r} sigma_i^2)^(1/2)`` (Eckart-Young)."""
    s = spectrum(A)
    if isinstance(r, bool) or int(r) != r or r < 0:
        raise ValueError(f"r: must be an integer >= 0, got {r!r}")
    tail = s.scaled[..., int(r):]
    largest = np.max(tail, axis=-1, initial=0.0)  # the tail rescaled once more, so that no square underflows
    ratio = np.divide(tail, largest[..., None], out=np.zeros_like(tail), where=largest[..., None] > 0)
    return _out(_unscaled(largest * np.sqrt(np.sum(ratio * ratio, axis=-1)), s.exponent))


@dataclass(frozen=True)
class NumericalRank:
    """Numerical rank ``#{i : sigma_i > tolerance}`` and the absolute tolerance that produced it.

    ``tolerance = max(atol, rtol * sigma_1)``; ``rule`` says where rtol and atol came from.
    """

    rank: int | np.ndarray
    tolerance: float | np.ndarray
    rtol: float
    atol: float
    rule: str


def numerical_rank(A: Any, rtol: float | None = None, atol: float | None = None) -> NumericalRank:
    """Numerical rank of ``A`` with the tolerance recorded.

    Default (both ``None``): numpy's ``matrix_rank`` rule ``rtol = max(m, n) * eps``, where eps
    is the machine epsilon of ``A``'s stored dtype (so a float32 weight is judged at float32
    precision, as ``np.linalg.matrix_rank`` would). When only ``atol`` is given, ``rtol = 0``
    (the ``torch.linalg.matrix_rank`` convention).
    """
    s = spectrum(A)
    m, n = s.shape
    if rtol is None and atol is None:
        rtol_value, atol_value = max(m, n) * s.eps, 0.0
        rule = f"numpy default: rtol = max(m, n) * eps = {max(m, n)} * {s.eps:.3g}"
    else:
        rtol_value = 0.0 if rtol is None else check_nonnegative(rtol, "rtol")
        atol_value = 0.0 if atol is None else check_nonnegative(atol, "atol")
        rule = f"user: rtol = {rtol_value:.6g}, atol = {atol_value:.6g}"
    relative = rtol_value * s.scaled[..., 0]  # counted on the scaled values, reported unscaled
    rank = np.sum(s.scaled > np.maximum(_unscaled(atol_value, -s.exponent), relative)[..., None], axis=-1)
    tolerance = np.maximum(atol_value, _unscaled(relative, s.exponent))
    if rank.ndim == 0:
        return NumericalRank(int(rank), float(tolerance), rtol_value, atol_value, rule)
    return NumericalRank(rank, tolerance, rtol_value, atol_value, rule)


def _ratio_power_sum(s: Spectrum, p: float) -> np.ndarray:
    """``sum_i (sigma_i / sigma_1)^p``, 0 where sigma_1 = 0."""
    top = s.scaled[..., :1]
    ratio = np.divide(s.scaled, top, out=np.zeros_like(s.scaled), where=top > 0)
    return np.sum(ratio**p, axis=-1)


def _dtype_eps(A: Any) -> float:
    """Machine epsilon of ``A``'s floating dtype, float64's for other inputs."""
    dtype = getattr(A, "dtype", None)
    if isinstance(dtype, torch.dtype):
        return float(torch.finfo(dtype).eps) if dtype.is_floating_point else FLOAT64_EPS
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return float(np.finfo(dtype).eps)
    return FLOAT64_EPS


def _out(values: np.ndarray) -> float | np.ndarray:
    """A Python float for a single matrix, the array for a batch."""
    values = np.asarray(values, dtype=np.float64)
    return float(values) if values.ndim == 0 else values

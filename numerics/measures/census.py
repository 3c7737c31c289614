"""Gradient census for Assumption 2.5 of Chen, Yi, Yang (2024), in closed form.

Model (notes-chen-oymak A.2, [R+]): ``f(x) = a relu(V x + b)`` with a in R^{1 x m},
V in R^{m x n}, b in R^m. Per-sample loss ``l_j = s (f(x_j) - y_j)^2`` with loss scale s
(s = 1 is the paper's MSE, s = 1/2 the other common convention; [R~]). Off the exceptional
set of Lemma 2.1 (no pre-activation exactly zero), Lemma 2.2 ([R+]) gives

    grad_V l_j = u_j x_j^T,   u_j = 2 s (f(x_j) - y_j) (a^T ⊙ 1[V x_j + b > 0]),   rank <= 1.

With weight decay mu_V (constant g, as in the experiments) Proposition P1 ([P], notes A.8)
works with ``h_j = grad_V l_j + mu_V V``; the batch gradient is ``G_S = (1/B) sum_{j in S} h_j``.
Assumption 2.5 asks ``||G_S||_F <= eps`` for every B-subset S of the N samples.

What is computed (no autograd and nothing of size N x m: a compiled kernel,
:func:`numerics.measures._census_kernel.census_kernel`, runs one task per model and batch in
parallel, tile by tile over the hidden units; the work is about 2 N m n multiply-adds plus
O(N m) elementwise operations):

* ``||h_j||_F`` for every sample, from ``||u_j||^2 ||x_j||^2 + 2 mu_V u_j^T V x_j + mu_V^2 ||V||_F^2``
  with ``u_j^T V x_j = c_j (f(x_j) - sum_i a_i b_i 1[z_ij > 0])``; in float64 its relative error is
  about ``eps * (||u_j x_j^T||^2 + mu_V^2 ||V||^2) / ||h_j||^2``;
* ``||G_S||_F`` for every given batch, from the explicit m x n matrix
  ``G_S = (1/B) diag(a) M_S^T (c_S ⊙ X_S) + mu_V V`` (M_S the activation pattern), so without
  cancellation;
* the bracket ``eps_lo <= eps <= eps_hi`` of notes A.8/A.11 and, when it is cheap, eps itself;
* the Gaussian comparator of reviewer 1 (notes A.10);
* the number of pre-activations with ``|v_k x_j + b_k| < zero_tol`` (Lemma 2.1's exceptional set).

Parameters may carry one leading model dimension set (a sweep of M models): ``V`` of shape
``(*L, m, n)``, ``a`` and ``b`` of shape ``(*L, m)`` (``a`` may also be ``(*L, 1, m)``, the
torch ``nn.Linear(m, 1).weight``), ``mu_V`` a float or of shape ``L``. Results then have the
leading shape ``L``. All arithmetic is float64.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from numerics.measures._census_kernel import census_kernel, kernel_layout
from numerics.measures._inputs import as_float64_array, check_nonnegative, check_positive_int

__all__ = [
    "EpsilonBracket",
    "GaussianComparator",
    "GradientCensus",
    "batch_gradient_norms",
    "gaussian_comparator",
    "gradient_census",
    "per_sample_gradient_norms",
]

#: samples per kernel task when only per-sample terms are wanted
SAMPLES_PER_TASK = 64
#: candidate subsets scored at once during enumeration
ENUMERATION_CHUNK = 4096


@dataclass(frozen=True)
class _Net:
    """Parameters with the models flattened to one axis of length ``models``, float64 NumPy."""

    a: np.ndarray  # (models, m)
    V: np.ndarray  # (models, m, n)
    b: np.ndarray  # (models, m)
    mu: np.ndarray  # (models,)
    lead: tuple[int, ...]
    loss_scale: float

    @property
    def models(self) -> int:
        return self.V.shape[0]

    @property
    def width(self) -> int:
        return self.V.shape[1]

    @cached_property
    def tiles(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``V^T``, b and a in the kernel's layout (:func:`~numerics.measures._census_kernel.kernel_layout`)."""
        return kernel_layout(self.V, self.b, self.a)

    @cached_property
    def decay_sq(self) -> np.ndarray:
        """(models,): ``mu_V^2 ||V||_F^2``."""
        return (self.mu * np.sqrt(np.einsum("kij,kij->k", self.V, self.V))) ** 2


@dataclass(frozen=True)
class _Terms:
    """Results of one kernel pass over some batches."""

    batch_norms: np.ndarray  # (models, batches); meaningful when batch norms were asked for
    h_norm_sq: np.ndarray  # (models, N); set at the samples the batches touch
    near_zero: np.ndarray  # (models, N) int64; likewise


@dataclass(frozen=True)
class EpsilonBracket:
    """What is known about eps = max over all B-subsets S of ``||G_S||_F`` (notes A.8, A.11).

    Attributes:
        batch_size: B.
        lower: max of ``||G_S||_F`` over the sampled batches of size B and the extra random ones
            (-inf when no batch of size B was scored).
        upper: ``max_j ||h_j||_F`` (the norm of a mean is at most the largest norm).
        exact: eps itself where ``method`` is ``"enumeration"`` or ``"batch_size_one"``, else None.
        method: ``"enumeration"`` (all C(N, B) subsets scored), ``"batch_size_one"`` (B = 1, so
            eps = upper) or ``"bracket"`` (only lower <= eps <= upper is known).
        sampled_batches: number of given batches of size B behind ``lower``.
        extra_batches: number of seeded uniformly random B-subsets behind ``lower``.
        seed: seed of the extra batches.
    """

    batch_size: int
    lower: np.ndarray
    upper: np.ndarray
    exact: np.ndarray | None
    method: str
    sampled_batches: int
    extra_batches: int
    seed: int


@dataclass(frozen=True)
class GaussianComparator:
    """Frobenius norm of a Gaussian matrix with i.i.d. N(0, std^2) entries (reviewer 1, notes A.10).

    ``expected`` is the exact mean of the chi distribution with D = m n degrees of freedom,
    ``std * sqrt(2) * Gamma((D + 1)/2) / Gamma(D/2)``; ``root_mean_square = std * sqrt(D)``
    (25.6 for 8192 x 8 and std 0.1, reviewer's "about 26").
    """

    shape: tuple[int, int]
    std: float
    sampled: float
    expected: float
    root_mean_square: float
    seed: int


@dataclass(frozen=True)
class GradientCensus:
    """Census of per-sample and batch gradients of the V-block at one parameter point.

    Arrays have the models' leading shape first. ``batch_norms[..., t]`` belongs to
    ``batches[t]`` as given; ``near_zero_counts[..., j]`` counts the units k with
    ``|v_k x_j + b_k| < zero_tol``.
    """

    per_sample_norms: np.ndarray
    batch_norms: np.ndarray
    batch_sizes: np.ndarray
    epsilon: EpsilonBracket
    comparator: GaussianComparator
    near_zero_counts: np.ndarray
    zero_tol: float
    mu_V: np.ndarray
    loss_scale: float

    @property
    def min_per_sample(self) -> np.ndarray:
        """``min_j ||h_j||_F``: the Eckart-Young part of P1 bounds sum_{k>=2} sigma_k^2 by its square / mu_V^2."""
        return self.per_sample_norms.min(axis=-1)

    @property
    def max_per_sample(self) -> np.ndarray:
        """``max_j ||h_j||_F`` = ``epsilon.upper``."""
        return self.per_sample_norms.max(axis=-1)


def per_sample_gradient_norms(
    a: Any, V: Any, b: Any, X: Any, y: Any, *, mu_V: Any, loss_scale: float = 1.0
) -> np.ndarray:
    """``||h_j||_F = ||grad_V l_j + mu_V V||_F`` for every sample j, shape ``(*L, N)``."""
    net, X, y = _prepare(a, V, b, X, y, mu_V, loss_scale)
    return _shaped(net, np.sqrt(_all_samples(net, X, y, zero_tol=0.0).h_norm_sq))


def batch_gradient_norms(
    a: Any, V: Any, b: Any, X: Any, y: Any, batches: Sequence[Any], *, mu_V: Any, loss_scale: float = 1.0
) -> np.ndarray:
    """``||G_S||_F`` for each batch S (a sequence of index arrays), shape ``(*L, len(batches))``."""
    net, X, y = _prepare(a, V, b, X, y, mu_V, loss_scale)
    return _shaped(net, _pass(net, X, y, _Batches.of(batches, X.shape[0]), zero_tol=0.0).batch_norms)


def gradient_census(
    a: Any,
    V: Any,
    b: Any,
    X: Any,
    y: Any,
    batches: Sequence[Any],
    *,
    mu_V: Any,
    loss_scale: float = 1.0,
    batch_size: int | None = None,
    extra_batches: int = 0,
    seed: int = 0,
    enumeration_limit: int = 100_000,
    zero_tol: float = 1e-9,
    comparator_std: float = 0.1,
) -> GradientCensus:
    """Census of one epoch: ``||h_j||_F`` for all samples, ``||G_S||_F`` for the epoch's batches.

    Args:
        a, V, b: parameters (see the module docstring for shapes).
        X: inputs ``(N, n)``; y: targets ``(N,)``.
        batches: the epoch's batches, a sequence of index arrays into ``X``.
        mu_V: weight decay on V (float, or one value per model).
        loss_scale: s in ``l_j = s (f(x_j) - y_j)^2``.
        batch_size: B of Assumption 2.5; default the most common size in ``batches``.
        extra_batches: number of additional uniformly random B-subsets (seeded by ``seed``)
            that enter the lower end of the eps bracket.
        enumeration_limit: eps is computed exactly by scoring all C(N, B) subsets when that
            count is at most this (this materialises N x m and N x N arrays: meant for small N).
        zero_tol: pre-activations with ``|v_k x_j + b_k| < zero_tol`` are counted.
        comparator_std: std of the Gaussian comparator's entries (0.1: variance 0.01).
    """
    net, X, y = _prepare(a, V, b, X, y, mu_V, loss_scale)
    N = X.shape[0]
    zero_tol = check_nonnegative(zero_tol, "zero_tol")
    given = _Batches.of(batches, N)
    sizes = given.sizes
    B = int(np.bincount(sizes).argmax()) if batch_size is None else check_positive_int(batch_size, "batch_size")
    if B > N:
        raise ValueError(f"batch_size: must be <= N = {N}, got {B}")

    seen = _pass(net, X, y, given, zero_tol)
    h_sq, near = seen.h_norm_sq, seen.near_zero
    missing = np.ones(N, dtype=bool)
    missing[given.flat] = False
    if missing.any():
        rest = _all_samples(net, X[missing], y[missing], zero_tol)
        h_sq[:, missing], near[:, missing] = rest.h_norm_sq, rest.near_zero
    per_sample = np.sqrt(h_sq)

    epsilon = _epsilon_bracket(
        net, X, y, per_sample, seen.batch_norms[:, sizes == B], B, extra_batches, seed, enumeration_limit
    )
    comparator = gaussian_comparator((net.width, X.shape[1]), std=comparator_std, seed=seed)
    return GradientCensus(
        per_sample_norms=_shaped(net, per_sample),
        batch_norms=_shaped(net, seen.batch_norms),
        batch_sizes=sizes,
        epsilon=epsilon,
        comparator=comparator,
        near_zero_counts=_shaped(net, near),
        zero_tol=zero_tol,
        mu_V=net.mu.reshape(net.lead),
        loss_scale=net.loss_scale,
    )


def gaussian_comparator(shape: tuple[int, int], std: float = 0.1, seed: int = 0) -> GaussianComparator:
    """Sampled and expected Frobenius norm of a ``shape`` matrix with i.i.d. N(0, std^2) entries."""
    m, n = (check_positive_int(d, "shape") for d in shape)
    std = check_nonnegative(std, "std")
    generator = torch.Generator().manual_seed(seed)
    sampled = std * float(torch.linalg.vector_norm(torch.randn(m, n, generator=generator, dtype=torch.float64)))
    D = m * n
    expected = std * math.sqrt(2.0) * math.exp(math.lgamma((D + 1) / 2) - math.lgamma(D / 2))
    return GaussianComparator((m, n), std, sampled, expected, std * math.sqrt(D), seed)


def _prepare(a: Any, V: Any, b: Any, X: Any, y: Any, mu_V: Any, loss_scale: float) -> tuple[_Net, np.ndarray, np.ndarray]:
    """Validate shapes and flatten the models' leading dimensions."""
    V = as_float64_array(V, "V", min_ndim=2)
    lead, (m, n) = V.shape[:-2], V.shape[-2:]
    a = as_float64_array(a, "a")
    if a.ndim == V.ndim and a.shape[-2] == 1:
        a = a.squeeze(-2)
    b = as_float64_array(b, "b")
    for name, array in (("a", a), ("b", b)):
        if array.shape != lead + (m,):
            raise ValueError(f"{name}: expected shape {lead + (m,)} to match V {V.shape}, got {array.shape}")
    mu = as_float64_array(mu_V, "mu_V")
    if mu.ndim > 0 and mu.shape != lead:
        raise ValueError(f"mu_V: expected a scalar or shape {lead}, got {mu.shape}")
    X = as_float64_array(X, "X", min_ndim=2)
    if X.ndim != 2:
        raise ValueError(f"X: expected ndim 2, got ndim={X.ndim} (shape {X.shape})")
    if X.shape[1] != n:
        raise ValueError(f"X: expected {n} columns to match V {V.shape}, got shape {X.shape}")
    y = as_float64_array(y, "y").reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} targets to match X, got {y.shape[0]}")
    scale = float(loss_scale)
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"loss_scale: must be finite and > 0, got {loss_scale!r}")
    models = math.prod(lead)
    net = _Net(
        a=np.ascontiguousarray(a.reshape(models, m)),
        V=np.ascontiguousarray(V.reshape(models, m, n)),
        b=np.ascontiguousarray(b.reshape(models, m)),
        mu=np.ascontiguousarray(np.broadcast_to(mu, lead).reshape(models)),
        lead=lead,
        loss_scale=scale,
    )
    return net, np.ascontiguousarray(X), np.ascontiguousarray(y)


@dataclass(frozen=True)
class _Batches:
    """Batches as one flat index array cut into consecutive pieces of the given sizes."""

    flat: np.ndarray  # (sum of sizes,) int64
    sizes: np.ndarray  # (number of batches,) int64

    @classmethod
    def of(cls, batches: Sequence[Any], N: int) -> _Batches:
        """Validate a sequence of index arrays (lists, arrays or tensors) into [0, N)."""
        pieces = list(batches)
        # an epoch's batches as 1-d tensors of one dtype (torch.randperm(N).split(B)) are joined
        # by one torch.cat; anything else goes piece by piece through NumPy
        joined = all(isinstance(piece, torch.Tensor) and piece.ndim == 1 for piece in pieces)
        joined = joined and len({piece.dtype for piece in pieces}) == 1
        if not joined:
            pieces = [np.asarray(piece).reshape(-1) for piece in pieces]
        sizes = np.array([piece.shape[0] for piece in pieces], dtype=np.int64)
        if sizes.size == 0 or sizes.min() == 0:
            raise ValueError("batches: must be a non-empty sequence of non-empty index arrays")
        flat = torch.cat(pieces).detach().cpu().numpy() if joined else np.concatenate(pieces)
        # each piece's dtype (one when joined): concatenation would turn booleans into integers
        for dtype in {flat.dtype} if joined else {piece.dtype for piece in pieces}:
            if not np.issubdtype(dtype, np.integer):
                raise ValueError(f"batches: indices must be integers, got dtype {dtype}")
        if flat.min() < 0 or flat.max() >= N:
            raise ValueError(f"batches: indices must lie in [0, {N})")
        return cls(flat.astype(np.int64), sizes)

    @classmethod
    def rows(cls, index: np.ndarray) -> _Batches:
        """Equal-size batches given as the rows of a (count, B) index array."""
        return cls(np.asarray(index, dtype=np.int64).reshape(-1), np.full(index.shape[0], index.shape[1]))

    def __len__(self) -> int:
        return self.sizes.size

    @property
    def offsets(self) -> np.ndarray:
        """Batch s is ``flat[offsets[s]:offsets[s + 1]]``."""
        return np.concatenate(([0], np.cumsum(self.sizes)))


def _pass(net: _Net, X: np.ndarray, y: np.ndarray, batches: _Batches, zero_tol: float, with_batches: bool = True) -> _Terms:
    """Batch norms in the order of ``batches`` and the per-sample terms of the samples they touch."""
    terms = _Terms(
        batch_norms=np.empty((net.models, len(batches))),
        h_norm_sq=np.zeros((net.models, X.shape[0])),
        near_zero=np.zeros((net.models, X.shape[0]), dtype=np.int64),
    )
    census_kernel(
        *net.tiles, net.width, net.mu, net.decay_sq, X, y, batches.flat, batches.offsets,
        net.loss_scale, zero_tol, with_batches, terms.batch_norms, terms.h_norm_sq, terms.near_zero,
    )  # fmt: skip
    return terms


def _all_samples(net: _Net, X: np.ndarray, y: np.ndarray, zero_tol: float) -> _Terms:
    """Per-sample terms of every row of ``X`` (in work units of :data:`SAMPLES_PER_TASK` rows)."""
    N = X.shape[0]
    units = _Batches(np.arange(N, dtype=np.int64), np.diff(np.append(np.arange(0, N, SAMPLES_PER_TASK), N)))
    return _pass(net, X, y, units, zero_tol, with_batches=False)


def _epsilon_bracket(
    net: _Net,
    X: np.ndarray,
    y: np.ndarray,
    per_sample: np.ndarray,
    sampled_norms: np.ndarray,
    B: int,
    extra_batches: int,
    seed: int,
    enumeration_limit: int,
) -> EpsilonBracket:
    """Lower end from sampled and random batches, upper end max_j ||h_j||, eps when cheap."""
    N = X.shape[0]
    extra = int(extra_batches)
    if extra < 0:
        raise ValueError(f"extra_batches: must be >= 0, got {extra_batches!r}")

    def norms(rows: np.ndarray) -> np.ndarray:
        return _pass(net, X, y, _Batches.rows(rows), 0.0).batch_norms

    candidates = [sampled_norms]
    if extra:
        rng = np.random.default_rng(seed)
        subsets = rng.random((extra, N)).argpartition(B - 1, axis=1)[:, :B] if B < N else np.tile(np.arange(N), (extra, 1))
        candidates.append(norms(subsets))
    pooled = np.concatenate(candidates, axis=1)
    lower = pooled.max(axis=1) if pooled.shape[1] else np.full(net.models, -math.inf)
    upper = per_sample.max(axis=1)
    if B == 1:
        exact, method = upper, "batch_size_one"
    elif B == N:  # the single B-subset is the whole sample
        exact, method = np.maximum(norms(np.arange(N)[None])[:, 0], lower), "enumeration"
    elif math.comb(N, B) <= enumeration_limit:
        winners = [_best_subset(_h_gram(net, X, y, model), B) for model in range(net.models)]
        exact = np.array([norms(subset[None])[model, 0] for model, subset in enumerate(winners)])
        exact, method = np.maximum(exact, lower), "enumeration"
    else:
        exact, method = None, "bracket"
    return EpsilonBracket(
        batch_size=B,
        lower=_shaped(net, lower),
        upper=_shaped(net, upper),
        exact=None if exact is None else _shaped(net, exact),
        method=method,
        sampled_batches=int(sampled_norms.shape[1]),
        extra_batches=extra,
        seed=seed,
    )


def _h_gram(net: _Net, X: np.ndarray, y: np.ndarray, model: int) -> np.ndarray:
    """``<h_j, h_k>_F = (u_j.u_k)(x_j.x_k) + mu (u_j.V x_j + u_k.V x_k) + mu^2 ||V||^2`` for one model."""
    a, V, b, mu = net.a[model], net.V[model], net.b[model], net.mu[model]
    VX = X @ V.T  # (N, m)
    Z = VX + b
    f = np.maximum(Z, 0.0) @ a
    U = ((2.0 * net.loss_scale) * (f - y))[:, None] * a * (Z > 0)
    alignment = (U * VX).sum(1)  # <u_j x_j^T, V> = u_j . V x_j
    return (U @ U.T) * (X @ X.T) + mu * (alignment[:, None] + alignment[None, :]) + net.decay_sq[model]


def _best_subset(gram: np.ndarray, B: int) -> np.ndarray:
    """The B-subset S maximising ``1_S^T gram 1_S``, scoring subsets or their complements (smaller side)."""
    N = gram.shape[0]
    side = min(B, N - B)
    row_sums, total = gram.sum(axis=1), gram.sum()
    best_value, best = -math.inf, np.arange(B)
    for chunk in _combinations(N, side):
        inner = gram[chunk[:, :, None], chunk[:, None, :]].sum(axis=(1, 2))
        values = inner if side == B else total - 2.0 * row_sums[chunk].sum(axis=1) + inner
        t = int(values.argmax())
        if values[t] > best_value:
            best_value = float(values[t])
            best = chunk[t] if side == B else np.setdiff1d(np.arange(N), chunk[t])
    return best


def _combinations(N: int, size: int) -> Iterator[np.ndarray]:
    """All ``size``-subsets of range(N) in lexicographic order, as (chunk, size) index arrays."""
    iterator = itertools.combinations(range(N), size)
    while block := list(itertools.islice(iterator, ENUMERATION_CHUNK)):
        yield np.array(block, dtype=np.intp).reshape(len(block), size)


def _shaped(net: _Net, values: np.ndarray) -> np.ndarray:
    """(models, ...) array -> array with the models' leading shape restored."""
    return values.reshape(net.lead + values.shape[1:])

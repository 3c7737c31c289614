"""Fused, compiled kernel of the gradient census (:mod:`numerics.measures.census`).

One task per (model, batch S), the tasks in parallel (numba ``prange``). Each task makes two
passes over the hidden units, :data:`TILE` units at a time:

1. ``Z_S = X_S V^T + b`` for the batch's samples, :data:`ROWS` samples at a time so that
   their rows of ``Z_S`` stay in the L1 cache while the tile of ``V^T`` is read once per block;
   from ``Z_S`` the per-sample sums ``f(x_j)``, ``sum_i a_i^2 1[z_ij > 0]``,
   ``sum_i a_i b_i 1[z_ij > 0]`` and the near-zero count are kept, and the masked output
   weights ``A_S[j, i] = a_i 1[z_ij > 0]``;
2. ``G_S^T = mu_V V^T + (c ⊙ X_S / B)^T A_S``, :data:`ROWS` features at a time, each block
   squared and summed into ``||G_S||_F^2`` as soon as it is complete, so ``G_S`` is never held
   whole. The per-sample factors ``c_j / B`` scale the rows of ``X_S`` (B x n), not those of
   ``A_S`` (B x m), which is read as it was written.

Nothing larger than one batch's ``A_S`` (B x m floats, 8 B m bytes per task; N x m for the
single batch of the whole sample) is allocated, against the N x m pre-activations of a tensor
program. The mathematics is that of
:mod:`numerics.measures.census` (Lemma 2.2 of Chen, Yi, Yang 2024, [R+]); all arithmetic is
float64. ``fastmath`` is restricted to reassociation and fused multiply-add, which lets the
compiler vectorise the sums; it makes no assumption about NaN or infinity.

Both products are register-blocked: each sweep over a tile updates two rows of the accumulator
with :data:`QUAD` rank-one terms, so every load of ``V^T`` (or ``A_S``) feeds two FMAs and every
store of the accumulator carries four terms. The batch's inputs and ``V^T`` are zero-padded to
a multiple of :data:`QUAD` samples and features, so the loops have no remainders: padded
features add zero to ``Z_S`` and give zero rows of ``G_S^T``, and padded samples, whose rows of
``A_S`` and factors are zero, add nothing to ``G_S``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: hidden units per tile
TILE = 256
#: rows of the accumulator (samples in pass 1, features in pass 2) kept in L1 at a time
ROWS = 8
#: rank-one terms per sweep; samples and features are zero-padded to a multiple of it
QUAD = 4

_FASTMATH = {"reassoc", "contract"}


def kernel_layout(V: np.ndarray, b: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``V (models, m, n)``, ``b``, ``a (models, m)`` -> the kernel's ``V^T``, b and a tiles.

    ``V^T`` becomes ``(models, tiles, n_pad, TILE)`` with its feature axis zero-padded to
    ``n_pad``, the next multiple of :data:`QUAD`; b and a become ``(models, tiles, TILE)``.
    """
    n = V.shape[-1]
    V_T = np.zeros((V.shape[0], -(-n // QUAD) * QUAD, V.shape[1]))
    V_T[:, :n] = V.transpose(0, 2, 1)
    return _tiled(V_T), _tiled(b), _tiled(a)


def _tiled(values: np.ndarray) -> np.ndarray:
    """``(models, ..., m)`` -> ``(models, tiles, ..., TILE)``, C-contiguous, zero-padded to whole tiles.

    The kernel indexes each tile as a contiguous array from 0, which lets the compiler
    vectorise its loops (an offset index into the full row does not).
    """
    m = values.shape[-1]
    tiles = -(-m // TILE)
    padded = np.zeros(values.shape[:-1] + (tiles * TILE,))
    padded[..., :m] = values
    split = padded.reshape(values.shape[:-1] + (tiles, TILE))
    return np.ascontiguousarray(np.moveaxis(split, -2, 1))


@numba.njit(parallel=True, fastmath=_FASTMATH, cache=True)
def census_kernel(
    V_tiles: np.ndarray,
    b_tiles: np.ndarray,
    a_tiles: np.ndarray,
    m: int,
    mu: np.ndarray,
    decay_sq: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    flat: np.ndarray,
    offsets: np.ndarray,
    loss_scale: float,
    zero_tol: float,
    with_batches: bool,
    batch_norms: np.ndarray,
    h_norm_sq: np.ndarray,
    near_zero: np.ndarray,
) -> None:
    """Fill ``batch_norms``, ``h_norm_sq`` and ``near_zero`` in place.

    Args:
        V_tiles, b_tiles, a_tiles: each model's ``V^T``, b and a in the layout of
            :func:`kernel_layout`; m: the width.
        mu: ``(models,)``, mu_V; decay_sq: ``(models,)``, ``mu_V^2 ||V||_F^2``.
        X: ``(N, n)``; y: ``(N,)``.
        flat, offsets: batch s is ``flat[offsets[s]:offsets[s + 1]]`` (indices into X).
        loss_scale: s in ``l_j = s (f(x_j) - y_j)^2``.
        zero_tol: pre-activations with ``|z| < zero_tol`` are counted in ``near_zero``.
        with_batches: whether to compute ``batch_norms[model, s] = ||G_S||_F`` (else the
            batches are mere work units for the per-sample terms).
        batch_norms: ``(models, batches)`` output.
        h_norm_sq, near_zero: ``(models, N)`` outputs at the samples the batches touch:
            ``||h_j||_F^2`` (from the expansion in the census module's docstring, clamped at
            0) and the count of near-zero pre-activations.
    """
    models, tiles, n_pad, _ = V_tiles.shape
    n = X.shape[1]
    batches = offsets.size - 1
    for task in numba.prange(models * batches):
        model = task // batches
        s = task - model * batches
        rows = flat[offsets[s] : offsets[s + 1]]
        size = rows.size
        size_pad = -(-size // QUAD) * QUAD
        X_S = np.zeros((size_pad, n_pad))  # the batch's inputs, gathered once, zero-padded
        for t in range(size):
            X_S[t, :n] = X[rows[t]]

        # Pass 1: Z_S = X_S V^T + b a tile at a time; per sample f, sum a_i^2 1[z > 0],
        # sum a_i b_i 1[z > 0] and the near-zero count, and A_S = a ⊙ 1[Z_S > 0].
        f = np.zeros(size)
        active_a_sq = np.zeros(size)
        active_a_b = np.zeros(size)
        near = np.zeros(size, dtype=np.int64)
        # A_S, zero in the padded rows; without batch norms one tile of it, overwritten tile by tile
        masked_a = np.zeros((tiles if with_batches else 1, size_pad, TILE))
        Z = np.empty((size_pad, TILE))
        for tile in range(tiles):
            width = min(TILE, m - tile * TILE)
            V_t, b_t, a_t = V_tiles[model, tile], b_tiles[model, tile], a_tiles[model, tile]
            for t in range(size_pad):
                for i in range(width):
                    Z[t, i] = b_t[i]
            for first in range(0, size_pad, ROWS):
                for d in range(0, n_pad, QUAD):
                    for t in range(first, min(first + ROWS, size_pad), 2):  # samples t, t + 1
                        p0, p1, p2, p3 = X_S[t, d], X_S[t, d + 1], X_S[t, d + 2], X_S[t, d + 3]
                        q0, q1, q2, q3 = X_S[t + 1, d], X_S[t + 1, d + 1], X_S[t + 1, d + 2], X_S[t + 1, d + 3]
                        for i in range(width):
                            v0, v1, v2, v3 = V_t[d, i], V_t[d + 1, i], V_t[d + 2, i], V_t[d + 3, i]
                            Z[t, i] += p0 * v0 + p1 * v1 + p2 * v2 + p3 * v3
                            Z[t + 1, i] += q0 * v0 + q1 * v1 + q2 * v2 + q3 * v3
            for t in range(size):
                z, a_on = Z[t], masked_a[tile if with_batches else 0, t]
                f_t, a_sq_t, a_b_t, near_t = 0.0, 0.0, 0.0, 0
                for i in range(width):
                    weight = a_t[i] if z[i] > 0.0 else 0.0  # a select, so that the loop vectorises
                    a_on[i] = weight
                    f_t += weight * z[i]
                    a_sq_t += weight * weight
                    a_b_t += weight * b_t[i]
                    near_t += abs(z[i]) < zero_tol
                f[t] += f_t
                active_a_sq[t] += a_sq_t
                active_a_b[t] += a_b_t
                near[t] += near_t

        decay = mu[model]
        c = np.empty(size)
        for t in range(size):
            c[t] = 2.0 * loss_scale * (f[t] - y[rows[t]])
            x_sq = 0.0
            for d in range(n):
                x_sq += X_S[t, d] * X_S[t, d]
            h_sq = c[t] * c[t] * active_a_sq[t] * x_sq + 2.0 * decay * c[t] * (f[t] - active_a_b[t]) + decay_sq[model]
            h_norm_sq[model, rows[t]] = max(h_sq, 0.0)
            near_zero[model, rows[t]] = near[t]
        if not with_batches:
            continue

        # Pass 2: G_S^T = mu V^T + sum_t (c_t x_t / B) (a ⊙ 1[z_t > 0])^T, ROWS rows at a time.
        X_c = np.zeros((size_pad, n_pad))  # rows c_t x_t / B, the coefficients of the rank-one terms
        for t in range(size):
            X_c[t, :n] = (c[t] / size) * X_S[t, :n]  # padded features stay 0 even if c_t overflows
        G = np.empty((ROWS, TILE))  # ROWS rows of a tile of G_S^T
        total = 0.0
        for tile in range(tiles):
            width = min(TILE, m - tile * TILE)
            V_t = V_tiles[model, tile]
            A_t = masked_a[tile]
            for first in range(0, n_pad, ROWS):
                rows_d = min(ROWS, n_pad - first)
                for r in range(rows_d):
                    for i in range(width):
                        G[r, i] = decay * V_t[first + r, i]
                for t in range(0, size_pad, QUAD):
                    for r in range(0, rows_d, 2):  # features e, e + 1
                        e = first + r
                        p0, p1, p2, p3 = X_c[t, e], X_c[t + 1, e], X_c[t + 2, e], X_c[t + 3, e]
                        q0, q1, q2, q3 = X_c[t, e + 1], X_c[t + 1, e + 1], X_c[t + 2, e + 1], X_c[t + 3, e + 1]
                        for i in range(width):
                            w0, w1, w2, w3 = A_t[t, i], A_t[t + 1, i], A_t[t + 2, i], A_t[t + 3, i]
                            G[r, i] += p0 * w0 + p1 * w1 + p2 * w2 + p3 * w3
                            G[r + 1, i] += q0 * w0 + q1 * w1 + q2 * w2 + q3 * w3
                for r in range(rows_d):
                    for i in range(width):
                        total += G[r, i] * G[r, i]
        batch_norms[model, s] = math.sqrt(total)


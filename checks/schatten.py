"""Checks of the Schatten quasi-norm facts (issue item 6).

* ``schatten.p_triangle``: the p-triangle inequality ``||A+B||_p^p <= ||A||_p^p + ||B||_p^p``
  for p <= 1 [M], and its consequence with the declared constant 2^(1/p-1) [P];
* ``schatten.monotone``: ``||A||_q <= ||A||_p <= rank^(1/p-1/q) ||A||_q`` for p <= q [P];
* ``schatten.rank_proxy``: ``1 <= r_p <= rank``, non-increasing in p, and the measured r_p
  equal to the certified value of the declaration at the measured singular values [P];
* ``schatten.three_ways``: Schatten norms from the SVD, from the eigenvalues of A^T A, and
  from SymPy's exact singular values of small integer matrices agree;
* ``schatten.weight_decay``: the balanced factorisation attains sum sigma^(2/L), and random
  other factorisations of the same A never go below it (L = 2, 3).

Matrices come from hypothesis (:mod:`checks.strategies`); each check returns one verdict
with the worst case seen, or hypothesis's shrunk counterexample.
"""

from __future__ import annotations

import math

import numpy as np
import sympy
from hypothesis import strategies as st

import derivations
from checks.context import CheckContext
from checks.registry import Check
from checks.strategies import exponents, matrices, matrix_pairs, run_property, small_integer_matrices
from checks.verdict import Verdict
from numerics.evaluation import evaluate, evaluate_float
from numerics.measures.spectral import numerical_rank, rank_proxy, schatten_quasinorm, singular_values

#: relative float64 slack of norms computed from an SVD (generic, well-scaled matrices)
SVD_SLACK = 1e-9


def _examples(context: CheckContext) -> int:
    return 60 if context.scale == "quick" else 400


def _record(statement_id: str, check: str, outcome, *, bound: float, what: str, form: str = "", coverage: str = "", details=None) -> Verdict:
    statement = derivations.get(statement_id)
    if outcome.held:
        verdict, reason = "holds", f"{what}: worst over {outcome.examples} generated cases {outcome.worst:.12g} <= {bound:g}"
    else:
        verdict, reason = "violated", f"{what}: counterexample {outcome.counterexample}"
    return Verdict(
        statement=statement_id,
        check=check,
        verdict=verdict,
        reason=reason,
        measured=outcome.worst,
        measured_error=SVD_SLACK,
        bound_lower=bound,
        bound_upper=bound,
        bound_digits=f"{bound:g}",
        form=form,
        tag=statement.tag_of(form) if form else statement.tag,
        coverage=coverage or f"{outcome.examples} hypothesis-generated matrices (up to 6 x 6, entries scaled 1e-3..1e3)",
        details=dict(details or {}),
    )


def p_triangle(context: CheckContext) -> list[Verdict]:
    strategy = st.tuples(matrix_pairs(), exponents)

    def normalised_p_power(example) -> float:
        (A, B), p = example
        return schatten_quasinorm(A + B, p) ** p / (schatten_quasinorm(A, p) ** p + schatten_quasinorm(B, p) ** p)

    def normalised_quasi_triangle(example) -> float:
        (A, B), p = example
        constant = float(evaluate_float("schatten.p_triangle", {"p": p}))  # 2^(1/p - 1), from the declaration
        return schatten_quasinorm(A + B, p) / (constant * (schatten_quasinorm(A, p) + schatten_quasinorm(B, p)))

    examples = _examples(context)
    return [
        _record("schatten.p_triangle", "schatten.p_triangle", run_property(strategy, normalised_p_power, threshold=1 + SVD_SLACK, max_examples=examples), bound=1.0, what="||A+B||_p^p / (||A||_p^p + ||B||_p^p)"),
        _record("schatten.p_triangle", "schatten.p_triangle", run_property(strategy, normalised_quasi_triangle, threshold=1 + SVD_SLACK, max_examples=examples), bound=1.0, what="||A+B||_p / (2^(1/p-1) (||A||_p + ||B||_p))", form="quasi_triangle_constant"),
    ]


def monotone(context: CheckContext) -> list[Verdict]:
    strategy = st.tuples(matrices(), exponents, st.floats(min_value=1.0, max_value=8.0))

    def violation(example) -> float:
        A, p, q_factor = example
        q = p * q_factor
        rank = numerical_rank(A).rank
        small, large = schatten_quasinorm(A, q), schatten_quasinorm(A, p)
        return max(small / large, large / (rank ** (1 / p - 1 / q) * small))

    outcome = run_property(strategy, violation, threshold=1 + SVD_SLACK, max_examples=_examples(context))
    return [_record("schatten.quasinorm", "schatten.monotone", outcome, bound=1.0, what="max(||A||_q/||A||_p, ||A||_p/(rank^(1/p-1/q) ||A||_q)), p <= q")]


def rank_proxy_facts(context: CheckContext) -> list[Verdict]:
    strategy = st.tuples(matrices(), exponents, st.floats(min_value=1.0, max_value=4.0))

    def violation(example) -> float:
        A, p, factor = example
        sigma = singular_values(A)
        rank = numerical_rank(A).rank
        r_p, r_q = rank_proxy(A, p), rank_proxy(A, p * factor)
        certified = float(evaluate("schatten.rank_proxy", {"sigma": [float(s) for s in sigma], "p": p}, dps=20).value)
        return max(1 / r_p, r_p / rank, r_q / r_p, abs(r_p - certified) / certified + 1)

    outcome = run_property(strategy, violation, threshold=1 + SVD_SLACK, max_examples=max(20, _examples(context) // 3))
    return [_record("schatten.rank_proxy", "schatten.rank_proxy", outcome, bound=1.0, what="max(1/r_p, r_p/rank, r_q/r_p for q >= p, 1 + |measured - certified|/certified)")]


def _exact_schatten(matrix: np.ndarray, p: float) -> float:
    """Schatten-p from the exact characteristic polynomial of the smaller Gram matrix.

    The polynomial has integer coefficients (SymPy, exact); its roots, the squared singular
    values, are real (the Gram matrix is symmetric) and are isolated exactly, with their
    multiplicities, then evaluated to 50 digits; exact zero roots are divided out first.
    """
    exact = sympy.Matrix(matrix.tolist())
    gram = exact.T * exact if exact.cols <= exact.rows else exact * exact.T
    t = sympy.Symbol("t")
    polynomial = sympy.Poly(gram.charpoly(t).as_expr(), t)
    while polynomial.degree() > 0 and polynomial.eval(0) == 0:  # the rank deficiency, exactly
        polynomial = sympy.Poly(sympy.quo(polynomial.as_expr(), t), t)
    roots = [float(sympy.N(root, 50)) for root in sympy.real_roots(polynomial)] if polynomial.degree() > 0 else []
    return float(sum(math.sqrt(root) ** p for root in roots) ** (1 / p))


def _truncated_schatten(sigma: np.ndarray, p: float, tolerance: float) -> float:
    """Schatten-p of the singular values above the numerical-rank tolerance (a float zero
    singular value of 1e-16 would otherwise add (1e-16)^p, 1e-8 at p = 1/2)."""
    kept = sigma[sigma > tolerance]
    return float(np.sum(kept**p) ** (1 / p))


def three_ways(context: CheckContext) -> list[Verdict]:
    strategy = st.tuples(small_integer_matrices(), st.sampled_from([0.5, 1.0, 2.0]))

    def discrepancy(example) -> float:
        A, p = example
        dense = A.astype(float)
        tolerance = numerical_rank(dense).tolerance
        from_svd = _truncated_schatten(singular_values(dense), p, tolerance)
        # eigenvalues of the smaller Gram matrix; their rounding is absolute in the squared
        # domain (size * eps * lambda_max), so the tolerance is applied there
        gram = dense.T @ dense if dense.shape[1] <= dense.shape[0] else dense @ dense.T
        eigenvalues = np.linalg.eigvalsh(gram)
        floor = 10 * gram.shape[0] * np.finfo(float).eps * eigenvalues.max()
        from_eig = float(np.sum(np.sqrt(eigenvalues[eigenvalues > floor]) ** p) ** (1 / p))
        exact = _exact_schatten(A, p)
        return max(abs(from_svd - exact), abs(from_eig - exact)) / exact

    outcome = run_property(strategy, discrepancy, threshold=1e-9, max_examples=max(15, _examples(context) // 4))
    return [
        _record(
            "schatten.quasinorm",
            "schatten.three_ways",
            outcome,
            bound=1e-9,
            what="relative gap between SVD, eigenvalues of A^T A, and SymPy's exact singular values",
            coverage=f"{outcome.examples} small integer matrices (up to 3 x 3, rank-deficient ones included), p in {{1/2, 1, 2}}; float singular values below numpy's rank tolerance count as zero",
        )
    ]


def weight_decay(context: CheckContext) -> list[Verdict]:
    strategy = st.tuples(matrices(max_rows=5, max_cols=5, min_side=2), st.sampled_from([2, 3]), st.integers(0, 2**31 - 1))

    def gap(example) -> float:
        A, L, seed = example
        U, sigma, Vt = np.linalg.svd(A, full_matrices=False)
        target = float(evaluate("schatten.weight_decay_identity", {"L": L, "sigma": [float(s) for s in sigma]}, dps=20).value)
        root = np.diag(sigma ** (1 / L))
        balanced = [root @ Vt] + [root] * (L - 2) + [U @ root]
        penalty = sum(np.linalg.norm(W) ** 2 for W in balanced) / L
        # random invertible re-parametrisations W_l -> G_l W_l G_{l-1}^{-1} keep the product
        rng = np.random.default_rng(seed)
        k = len(sigma)
        gauges = [np.eye(k) + 0.3 * rng.normal(size=(k, k)) for _ in range(L - 1)]
        others = [gauges[0] @ balanced[0]] + [gauges[l] @ balanced[l] @ np.linalg.inv(gauges[l - 1]) for l in range(1, L - 1)] + [balanced[-1] @ np.linalg.inv(gauges[-1])]
        assert np.allclose(np.linalg.multi_dot(others[::-1]), A, rtol=1e-8, atol=1e-10 * np.abs(A).max())
        other_penalty = sum(np.linalg.norm(W) ** 2 for W in others) / L
        # both numbers must be >= 1 for the identity to hold: balanced attains, others exceed
        return max(abs(penalty - target) / target + 1, target / other_penalty)

    outcome = run_property(strategy, gap, threshold=1 + 1e-8, max_examples=max(20, _examples(context) // 3))
    return [_record("schatten.weight_decay_identity", "schatten.weight_decay", outcome, bound=1.0, what="balanced penalty = sum sigma^(2/L) and no re-parametrised factorisation goes below it")]


CHECKS = (
    Check("schatten.p_triangle", ("schatten.p_triangle",), p_triangle, "p-triangle inequality and the quasi-triangle constant"),
    Check("schatten.monotone", ("schatten.quasinorm",), monotone, "monotonicity of Schatten norms in p"),
    Check("schatten.rank_proxy", ("schatten.rank_proxy",), rank_proxy_facts, "1 <= r_p <= rank, monotone, measured = certified"),
    Check("schatten.three_ways", ("schatten.quasinorm",), three_ways, "SVD vs eigenvalues vs SymPy exact"),
    Check("schatten.weight_decay", ("schatten.weight_decay_identity",), weight_decay, "weight decay on factorisations"),
)

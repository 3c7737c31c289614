"""Covering-number statements against certified packings of sampled matrix sets.

Check ``covering.packing``
--------------------------
For a set ``S`` of matrices with the Frobenius distance, points of ``S`` pairwise more than
``2 eps`` apart lie in distinct balls of any external ``eps``-cover, so

    M(S, 2 eps) <= N_ext(S, eps) <= N_int(S, eps)                                 (*)

(``M`` the packing number, ``N_ext`` / ``N_int`` the external / internal covering numbers).
:func:`numerics.packing.packing_profile` builds a greedy maximal packing of a seeded sample of
``S`` whose every point is certified to lie in ``S`` (up to a membership defect it absorbs
into the separation); its size ``M`` is a certified lower bound on ``M(S, 2 eps)``. A
statement bounding ``N(S, eps)`` from above is falsified if ``ln M`` exceeds its certified
value. One record per (set, eps, statement), in natural-log space:

* ``candes_plan2011.lemma3_1`` [M]: ``S_r = {rank <= r, ||X||_F = 1}`` has an internal
  ``eps``-net of size ``(9/eps)^((n1+n2+1) r)``, ``0 < eps < 1`` (a sphere of radius ``R`` is
  checked at ``eps/R``, by scaling);
* ``candes_plan2011.ball`` [P]: ``{rank <= r, ||X||_F <= R}``, ``(9R/eps)^((n1+n2+1) r)``, ``eps < R``
  (for the full Frobenius ball, ``r = min(n1, n2)``);
* ``schatten_ball.lemma_s1`` [P]: ``ln N_ext(B_p(R), eps) <= (m+n+1) k* ln(18R/eps)``, ``0 < p < 2``;
* ``schatten_ball.lemma_s1_proper`` [P]: the internal cover, ``ln N_int(eps) <= (m+n+1) k* ln(36R/eps)``.

The bound is always the statement's certified enclosure from
:func:`numerics.evaluation.evaluate`; the Candès–Plan counts are taken to natural logs in Arb
(:func:`log_enclosure`). :func:`numerics.packing.covering_log_bound`, a float64 computation
of the same bounds written independently, is only a cross-check (:func:`cross_check`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, ctx

import derivations
from checks.context import CheckContext
from checks.registry import Check
from checks.verdict import Verdict, compare_to_bound, float_above, float_below
from numerics.evaluation import evaluate
from numerics.evaluation.digits import certified_digits
from numerics.evaluation.evaluate import Evaluation
from numerics.evaluation.vacuity import vacuity
from numerics.packing import (
    MatrixPacking,
    MatrixSet,
    candes_plan_ball,
    candes_plan_sphere,
    packing_profile,
    schatten_ball,
    tightness_ratio,
)

CHECK_NAME = "covering.packing"
CANDES_PLAN_SPHERE = "candes_plan2011.lemma3_1"
CANDES_PLAN_BALL = "candes_plan2011.ball"
LEMMA_S1 = "schatten_ball.lemma_s1"
LEMMA_S1_PROPER = "schatten_ball.lemma_s1_proper"
STATEMENT_IDS = (CANDES_PLAN_SPHERE, CANDES_PLAN_BALL, LEMMA_S1, LEMMA_S1_PROPER)

#: statements whose value is the count N (their log is taken here); the others are log N
COUNT_STATEMENTS = frozenset({CANDES_PLAN_SPHERE, CANDES_PLAN_BALL})

#: relative tolerance of the float64 cross-check (:func:`cross_check`)
CROSS_CHECK_RTOL = 1e-12

CONVENTIONS = {
    "metric": "Frobenius norm",
    "cover comparison": "M(S, 2 eps) <= N_ext(S, eps) <= N_int(S, eps): a packing bounds both cover types from below",
    "log": "natural; counts are compared as ln N",
    "parameters": "bounds evaluated at the exact binary values of the float parameters the packing used",
}


class CrossCheckError(AssertionError):
    """The certified bound and the independent float64 computation of it disagree: a bug."""


@dataclass(frozen=True)
class CoveringCase:
    """A matrix set and the radii ``eps`` at which its covering statements are checked."""

    matrix_set: MatrixSet
    eps_values: tuple[float, ...]


@dataclass(frozen=True)
class CoveringPlan:
    """The cases of one scale and the sample size of every packing."""

    cases: tuple[CoveringCase, ...]
    sample_size: int


PLANS = {
    "quick": CoveringPlan(
        cases=(
            CoveringCase(schatten_ball(2, 2, 0.5, 1.5), (0.2, 0.45, 3.5)),  # eps = 3.5 >= 2R: Lemma S1 gives 0
            CoveringCase(schatten_ball(3, 3, 1.0), (0.2, 0.35, 0.6)),
            CoveringCase(schatten_ball(2, 3, 2.0), (0.2, 0.35, 0.6)),
            CoveringCase(candes_plan_sphere(3, 3, 1), (0.2, 0.35, 0.6)),
            CoveringCase(candes_plan_ball(3, 3, 2), (0.2, 0.35, 0.6)),
        ),
        sample_size=4000,
    ),
    "paper": CoveringPlan(
        cases=(
            CoveringCase(schatten_ball(3, 3, 0.5, 1.5), (0.15, 0.3, 0.6, 3.5)),
            CoveringCase(schatten_ball(4, 4, 0.5, 2.0), (0.2, 0.3, 0.45, 0.7)),
            CoveringCase(schatten_ball(4, 4, 1.0), (0.2, 0.3, 0.45, 0.7)),
            CoveringCase(schatten_ball(4, 4, 2.0), (0.2, 0.3, 0.45, 0.7)),
            CoveringCase(candes_plan_sphere(3, 3, 2), (0.2, 0.3, 0.45, 0.7)),
            CoveringCase(candes_plan_sphere(4, 4, 1), (0.2, 0.3, 0.45, 0.7)),
            CoveringCase(candes_plan_ball(4, 4, 2, 2.0), (0.4, 0.6, 0.9, 1.4)),
        ),
        sample_size=10000,
    ),
}


# ---------------------------------------------------------------------------- statements of a set
def statements_for(matrix_set: MatrixSet) -> tuple[str, ...]:
    """The covering statements about ``matrix_set``: Candès–Plan for ``p = 2``, Lemma S1 for ``p < 2``.

    Lemma S1 is declared for the whole ball ``B_p(R)``; a rank-constrained Schatten ball is
    rejected (its packings would still be packings of ``B_p(R)``, but the independent
    cross-check computes the rank-capped bound of notes I.5 instead).
    """
    if matrix_set.p == 2:
        return (CANDES_PLAN_SPHERE,) if matrix_set.surface else (CANDES_PLAN_BALL,)
    if not matrix_set.full_rank:
        raise ValueError(
            f"matrix_set={matrix_set.describe()}: Lemma S1 is declared for the whole ball; rank must be min(rows, cols)"
        )
    return (LEMMA_S1, LEMMA_S1_PROPER)


def statement_params(statement_id: str, matrix_set: MatrixSet, eps: float) -> dict[str, int | Fraction]:
    """The statement's parameters for ``matrix_set`` at ``eps``, as exact values.

    Floats enter as their exact binary values, so the bound is evaluated at exactly the
    radius the packing used. The Candès–Plan sphere lemma is about the unit sphere: the
    sphere of radius ``R`` is its image under ``X -> R X``, so it is evaluated at ``eps / R``.
    """
    rows, cols, rank = matrix_set.rows, matrix_set.cols, matrix_set.rank
    radius, eps_exact = Fraction(matrix_set.radius), Fraction(eps)
    if statement_id == CANDES_PLAN_SPHERE:
        return {"n1": rows, "n2": cols, "r": rank, "eps": eps_exact / radius}
    if statement_id == CANDES_PLAN_BALL:
        return {"n1": rows, "n2": cols, "r": rank, "R": radius, "eps": eps_exact}
    if statement_id in (LEMMA_S1, LEMMA_S1_PROPER):
        return {"m": rows, "n": cols, "p": Fraction(matrix_set.p), "R": radius, "eps": eps_exact}
    raise ValueError(f"statement_id={statement_id!r}: must be one of {', '.join(STATEMENT_IDS)}")


# ---------------------------------------------------------------------------- enclosures
def log_enclosure(evaluation: Evaluation) -> tuple[arb, arb]:
    """Exact Arb endpoints ``[lo, hi]`` enclosing the natural log of the bound on ``N``.

    For a statement whose value is the count (Candès–Plan) the endpoints are the logs of
    the enclosure's endpoints, rounded outward at the enclosure's precision plus guard bits
    (the count is at least 1 there, so the log is finite); Lemma S1's value is already a log.
    """
    certified = evaluation.enclosure
    if evaluation.statement.id not in COUNT_STATEMENTS:
        return certified.lower, certified.upper
    with ctx.workprec(certified.precision_bits + 64):
        return certified.lower.log().lower(), certified.upper.log().upper()


def cross_check(packing: MatrixPacking, statement_id: str, lower: float, upper: float) -> float | None:
    """Compare the certified log-bound with :func:`numerics.packing.covering_log_bound`.

    The float64 computation bounds the same covering number when it names the same
    statement (it has no internal variant of Lemma S1: None is returned for that one).
    Raises :class:`CrossCheckError` when the two differ by more than ``CROSS_CHECK_RTOL``.
    """
    independent = packing.covering_bound
    if independent.statement_id != statement_id:
        return None
    slack = CROSS_CHECK_RTOL * max(1.0, abs(upper))
    if not lower - slack <= independent.log_value <= upper + slack:
        raise CrossCheckError(
            f"{statement_id} at {packing.matrix_set.describe()}, eps={packing.eps!r}: certified log-bound "
            f"[{lower!r}, {upper!r}] but covering_log_bound gives {independent.log_value!r}"
        )
    return independent.log_value


# ---------------------------------------------------------------------------- records
def log_packing_error(size: int) -> float:
    """Error bound of ``math.log(size)``: one ulp (0 for ``size = 1``, whose log is exactly 0)."""
    return 0.0 if size == 1 else math.ulp(math.log(size))


def packing_details(packing: MatrixPacking, log_bound: float) -> dict[str, object]:
    """The packing's certificate and the tightness figures shown next to the verdict.

    ``tightness_ratio`` is ``ln M / ln N_bound``; the volumetric lower bound (where the set
    is full-dimensional) bounds ``ln N_ext(S, eps)`` from below, so ``[volumetric, bound]``
    brackets the true log covering number.
    """
    volumetric = packing.volumetric_bound
    return {
        "case": f"{packing.matrix_set.describe()}, eps={packing.eps:g}",
        "set": packing.matrix_set.describe(),
        "eps": packing.eps,
        "packing_size": packing.size,
        "sample_size": packing.sample_size,
        "seed": packing.seed,
        "boundary_fraction": packing.boundary_fraction,
        "separation": packing.separation,
        "min_pairwise_distance": packing.min_distance,
        "membership_error_bound": packing.membership_defect,
        "tightness_ratio": tightness_ratio(math.log(packing.size), log_bound),
        "volumetric_log_lower_bound": volumetric.log_value,
        "volumetric_note": volumetric.reason,
        "packing_notes": list(packing.notes),
    }


def packing_verdict(statement_id: str, packing: MatrixPacking) -> Verdict:
    """One record: ``ln M(2 eps)`` of ``packing`` against the statement's certified bound at ``eps``.

    Inconclusive if the packing's certificate (all pairwise distances above the separation,
    recomputed) fails; otherwise :func:`checks.verdict.compare_to_bound`, direction upper.
    """
    statement = derivations.get(statement_id)
    params = statement_params(statement_id, packing.matrix_set, packing.eps)
    evaluation = evaluate(statement, params)
    low, high = log_enclosure(evaluation)
    lower, upper = float_below(low), float_above(high)
    details = packing_details(packing, upper)
    details["float64_cross_check"] = cross_check(packing, statement_id, lower, upper)
    measured = math.log(packing.size)
    error = log_packing_error(packing.size)
    if packing.certificate_holds():
        verdict, reason = compare_to_bound(measured, lower, upper, measured_error=error, vacuous=vacuity(evaluation))
    else:
        verdict = "inconclusive"
        reason = (
            f"packing certificate fails: min distance {packing.min_distance!r} <= separation {packing.separation!r}"
        )
    form = statement.form()
    return Verdict(
        statement=statement_id,
        check=CHECK_NAME,
        verdict=verdict,
        reason=reason,
        measured=measured,
        measured_error=error,
        bound_lower=lower,
        bound_upper=upper,
        bound_digits=certified_digits(low, high),
        form=form.name,
        tag=statement.tag_of(form.name),
        kind="theorem",
        params={name: float(value) if isinstance(value, Fraction) else value for name, value in params.items()},
        conventions={**statement.conventions, **CONVENTIONS},
        coverage=(
            f"greedy packing of {packing.sample_size} sampled points "
            "(a lower bound on the packing number, not an estimate)"
        ),
        details=details,
    )


def run(context: CheckContext) -> list[Verdict]:
    """Every statement about every case of the context's scale, at every eps of the case."""
    plan = PLANS[context.scale]
    records = []
    for index, case in enumerate(plan.cases):
        packings = packing_profile(
            case.matrix_set, list(case.eps_values), plan.sample_size, seed=context.seed_for(index)
        )
        for packing in packings:
            records.extend(packing_verdict(statement_id, packing) for statement_id in statements_for(case.matrix_set))
    return records


CHECKS = (
    Check(
        CHECK_NAME,
        statements=STATEMENT_IDS,
        run=run,
        description=(
            "Greedy packings at separation 2 eps of sampled Schatten-p balls (p = 0.5, 1, 2) and Candès–Plan "
            "sets; ln M(2 eps) <= ln N(eps) must stay below each covering bound"
        ),
    ),
)

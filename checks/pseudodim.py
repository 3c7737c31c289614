"""Pseudo-dimension statements against certified shattering lower bounds.

Check ``pseudodim.shattering``
------------------------------
For tiny classes ``F_{m,n,r} = {x -> a relu(P Q x + b)}`` (width ``m``, input dimension ``n``,
``rank PQ <= r``; Chen et al. Eq. 12 [R+]) :func:`numerics.shattering.search_pdim_lower_bound`
searches point sets with thresholds and one witness network per pattern; a verified
certificate (re-checked here with :func:`numerics.shattering.verify_certificate`) proves
``Pdim(F_{m,n,r}) >= k``. Failing at ``k + 1`` proves nothing. Per class, four records:

* ``bhlm2019.thm6`` [M] for the class as a 3-layer piecewise-linear architecture (r identity
  units, m ReLU units, one linear output, plus the threshold parameter of the Pdim reduction,
  notes A-ref.2/3; :func:`rank_r_architecture`): an upper bound, so ``k <= bound`` must hold;
* ``chen2024.lemma3_10`` form ``bhlm`` [M] (the same bound, declared by substitution; its
  domain is ``m >= 2``), cross-checked against the record above (:func:`same_value`);
* ``chen2024.lemma3_10`` form ``rate`` [R~], ``C r (m+n) ln m`` with an unspecified constant:
  ``inconclusive``; the details give the smallest ``C`` the data require;
* ``bhlm2019.thm3_lower`` [M], ``W L log2(W/L)/C`` for *some* architecture and an unspecified
  universal ``C``: ``inconclusive``; the details give the ``C`` at which this class's
  certified bound would meet the statement's value.

Every bound is the certified enclosure of :func:`numerics.evaluation.evaluate`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
import sympy
from flint import arb, ctx

import derivations
from checks.context import CheckContext, derived_seed
from checks.registry import Check
from checks.verdict import Verdict, bound_floats, compare_to_bound, float_above, float_below
from numerics.evaluation import ParameterError, evaluate
from numerics.evaluation.evaluate import Evaluation
from numerics.evaluation.vacuity import vacuity
from numerics.shattering import (
    LowRankReluClass,
    PdimSearchResult,
    SearchBudget,
    ShatteringCertificate,
    search_pdim_lower_bound,
    verify_certificate,
)

CHECK_NAME = "pseudodim.shattering"
BHLM_THM6 = "bhlm2019.thm6"
LEMMA_3_10 = "chen2024.lemma3_10"
BHLM_THM3_LOWER = "bhlm2019.thm3_lower"
STATEMENT_IDS = (LEMMA_3_10, BHLM_THM6, BHLM_THM3_LOWER)

#: layers of the class counted as a ReLU network for ``bhlm2019.thm3_lower`` (the factor
#: ``P Q`` of the first layer adds no non-linearity)
RELU_LAYERS = 2

COVERAGE = "certified lower bound by search (not the pseudo-dimension; a failed larger size is not an upper bound)"
CONVENTIONS = {
    "measured": "k with a verified shattering certificate: Pdim(F_{m,n,r}) >= k",
    "pseudo-dimension": "strict thresholds: f(x_i) > r_i iff beta_i = 1 (Chen et al. Definition 3.4)",
}


class CrossCheckError(AssertionError):
    """Two declarations of the same bound give disjoint enclosures: a bug in one of them."""


@dataclass(frozen=True)
class SearchPlan:
    """The classes of one scale, the search budget and the largest size tried."""

    classes: tuple[LowRankReluClass, ...]
    budget: SearchBudget
    max_points: int


QUICK_CLASSES = (LowRankReluClass(1, 1, 1), LowRankReluClass(1, 2, 1), LowRankReluClass(2, 1, 1))
PLANS = {
    "quick": SearchPlan(QUICK_CLASSES, SearchBudget(point_sets=6, refined_patterns=4, refine_steps=10), max_points=6),
    "paper": SearchPlan(
        QUICK_CLASSES + (LowRankReluClass(3, 2, 1), LowRankReluClass(3, 2, 2), LowRankReluClass(4, 2, 2)),
        SearchBudget(),
        max_points=10,
    ),
}


# ---------------------------------------------------------------------------- the measurement
@dataclass(frozen=True)
class Measurement:
    """A search result and, if its certificate failed re-verification, why (``problem``)."""

    result: PdimSearchResult
    problem: str | None

    @property
    def lower_bound(self) -> int:
        """The certified lower bound on ``Pdim`` (meaningful only when ``problem`` is None)."""
        return self.result.certified_lower_bound


def certificate_problem(result: PdimSearchResult) -> str | None:
    """None if the result's certificate proves its lower bound; otherwise the reason.

    The certificate must exist, be for the searched class, have exactly
    ``certified_lower_bound`` points, and pass :func:`verify_certificate` (every witness
    re-evaluated in float64 with its rounding bound).
    """
    certificate = result.certificate
    if certificate is None:
        return "the search returned no certificate"
    if certificate.function_class != result.function_class:
        return f"certificate is for {certificate.function_class}, not {result.function_class}"
    if certificate.size != result.certified_lower_bound:
        return f"certificate has {certificate.size} points, the result claims {result.certified_lower_bound}"
    check = verify_certificate(certificate)
    if not check.valid:
        return "certificate does not verify: " + "; ".join(check.failures[:3])
    return None


def subclass_certificate(cls: LowRankReluClass, verified: list[ShatteringCertificate]) -> ShatteringCertificate | None:
    """The largest verified certificate of a subclass ``F_{m',n,r'}`` (``m' <= m``, ``r' <= r``), if any.

    It seeds the search (``initial``): ``F_{m',n,r'} ⊆ F_{m,n,r}``, so its set is shattered by
    ``F_{m,n,r}`` too (:func:`numerics.shattering.embed_certificate`).
    """
    contained = [
        c for c in verified
        if c.function_class.n == cls.n and c.function_class.m <= cls.m and c.function_class.r <= cls.r
    ]
    return max(contained, key=lambda c: c.size, default=None)


def measure(plan: SearchPlan, seed: int) -> list[Measurement]:
    """Search every class of ``plan`` in order, each seeded by verified subclass certificates."""
    verified: list[ShatteringCertificate] = []
    measurements = []
    for index, cls in enumerate(plan.classes):
        result = search_pdim_lower_bound(
            cls.m, cls.n, cls.r, plan.max_points, seed=derived_seed(seed, index), budget=plan.budget,
            initial=subclass_certificate(cls, verified),
        )
        problem = certificate_problem(result)
        if problem is None:
            verified.append(result.certificate)
        measurements.append(Measurement(result, problem))
    return measurements


def search_details(measurement: Measurement) -> dict[str, object]:
    """How the lower bound was found: class, certificate summary, seed, budget, effort."""
    result = measurement.result
    cls = result.function_class
    details: dict[str, object] = {
        "case": f"F_{{{cls.m},{cls.n},{cls.r}}} (m={cls.m}, n={cls.n}, r={cls.r})",
        "m": cls.m,
        "n": cls.n,
        "r": cls.r,
        "parameter_count": cls.parameter_count,
        "claimed_lower_bound": result.certified_lower_bound,
        "largest_size_not_shattered": result.largest_size_not_shattered,
        "search_note": result.note,
        "max_points": result.max_points,
        "seed": result.seed,
        "budget": asdict(result.budget),
        "point_sets_tried": result.usage.point_sets_tried,
        "linear_programmes": result.usage.linear_programmes,
        "certificate_problem": measurement.problem,
    }
    if result.certificate is not None:
        details["points"] = result.certificate.points.tolist()
        details["thresholds"] = result.certificate.thresholds.tolist()
    return details


# ---------------------------------------------------------------------------- the bounds
def rank_r_architecture(cls: LowRankReluClass) -> dict[str, int | Fraction]:
    """Parameters of ``bhlm2019.thm6`` for ``F_{m,n,r}`` with the Pdim threshold parameter.

    As ``derivations.catalogue.pseudodimension.pdim_rank_r`` (notes A.9 Lemma 3.10, A-ref.3):
    layers of ``r n`` (identity units ``Q x``), ``m (r + 1)`` (ReLU units ``P z + b``) and
    ``m + 1`` parameters (output weights ``a`` and the threshold); ``W_i`` cumulative,
    ``W = W_3``, ``Lbar = (W_1 + W_2 + W_3) / W``, one breakpoint, ``R = sum_i i k_i = r + 2m + 3``.
    """
    layers = (cls.r * cls.n, cls.m * (cls.r + 1), cls.m + 1)
    cumulative = np.cumsum(layers).tolist()
    total = cumulative[-1]
    return {"L": 3, "W": total, "Lbar": Fraction(sum(cumulative), total), "breakpoints": 1, "R": cls.r + 2 * cls.m + 3}


def same_value(first: Evaluation, second: Evaluation) -> None:
    """Raise :class:`CrossCheckError` when two evaluations of one quantity have disjoint enclosures."""
    a, b = first.enclosure, second.enclosure
    if a.upper < b.lower or b.upper < a.lower:
        raise CrossCheckError(
            f"{first.statement.id} gives {a.ball}, {second.statement.id} gives {b.ball} for the same bound"
        )


def constant_dependence(statement_id: str, form: str) -> sympy.Expr:
    """The factor of the form that depends on its constant ``C`` (``C`` or ``1/C`` here).

    Checked rather than assumed: the smallest admissible ``C`` is read off the value at
    ``C = 1`` only when the form is that value times this factor.
    """
    statement = derivations.get(statement_id)
    constant = statement.symbols()["C"]
    _, dependent = statement.form(form).expr.as_independent(constant, as_Add=False)
    if dependent not in (constant, 1 / constant):
        raise ValueError(f"{statement_id} form {form!r}: depends on C through {dependent}, not as C or 1/C")
    return dependent


# ---------------------------------------------------------------------------- records
def record(
    statement_id: str,
    form: str,
    measurement: Measurement,
    verdict: str,
    reason: str,
    params: dict[str, object],
    evaluation: Evaluation | None = None,
    details: dict[str, object] | None = None,
) -> Verdict:
    """A Verdict of this check with the shared fields filled in."""
    statement = derivations.get(statement_id)
    measured = None if measurement.problem else float(measurement.lower_bound)
    lower, upper = bound_floats(evaluation) if evaluation is not None else (None, None)
    return Verdict(
        statement=statement_id,
        check=CHECK_NAME,
        verdict=verdict,
        reason=reason,
        measured=measured,
        bound_lower=lower,
        bound_upper=upper,
        bound_digits=evaluation.digits() if evaluation is not None else "",
        form=form,
        tag=statement.tag_of(form),
        kind="theorem",
        params={name: float(value) if isinstance(value, Fraction) else value for name, value in params.items()},
        conventions={**statement.conventions, **CONVENTIONS},
        coverage=COVERAGE,
        details={**search_details(measurement), **(details or {})},
    )


def upper_bound_record(
    statement_id: str, form: str, measurement: Measurement, params: dict[str, object], evaluation: Evaluation
) -> Verdict:
    """The certified lower bound ``k`` against an upper bound on ``Pdim``: holds iff ``k <= bound``."""
    if measurement.problem:
        return record(statement_id, form, measurement, "inconclusive", measurement.problem, params, evaluation)
    k = measurement.lower_bound
    lower, upper = bound_floats(evaluation)
    verdict, reason = compare_to_bound(float(k), lower, upper, vacuous=vacuity(evaluation))
    gap = {"gap_bound_over_measured": upper / k if k else None}
    return record(statement_id, form, measurement, verdict, reason, params, evaluation, gap)


def lemma_bhlm_record(measurement: Measurement, thm6: Evaluation) -> Verdict:
    """``chen2024.lemma3_10`` form ``bhlm``, cross-checked against the ``bhlm2019.thm6`` evaluation ``thm6``.

    Inconclusive outside the declaration's domain (``m >= 2``; the reason leads with a failed
    certificate, if any); the ``bhlm2019.thm6`` record of the class covers the same architecture there.
    """
    cls = measurement.result.function_class
    params: dict[str, object] = {"m": cls.m, "n": cls.n, "r": cls.r}
    try:
        evaluation = evaluate(LEMMA_3_10, params, form="bhlm")
    except ParameterError as error:
        domain = f"outside the declared domain ({error}); the {BHLM_THM6} record of this class bounds the same net"
        reason = "; ".join(filter(None, (measurement.problem, domain)))
        return record(LEMMA_3_10, "bhlm", measurement, "inconclusive", reason, params)
    same_value(thm6, evaluation)
    return upper_bound_record(LEMMA_3_10, "bhlm", measurement, params, evaluation)


def rate_record(measurement: Measurement) -> Verdict:
    """``chen2024.lemma3_10`` form ``rate``: the smallest ``C`` with ``k <= C r (m+n) ln m``.

    ``C_min = k / (r (m+n) ln m)``, the value at ``C = 1`` evaluated by the declaration and
    the quotient rounded down (a certified requirement ``C >= C_min``). At ``m = 1``, which the
    lemma allows ("for any positive integers m, n, r"), ``ln m = 0`` makes the rebuilt rate 0
    for every ``C``, below the certified ``Pdim >= k``: the rebuilt [R~] form is violated there.
    """
    cls = measurement.result.function_class
    params: dict[str, object] = {"m": cls.m, "n": cls.n, "r": cls.r}
    if measurement.problem:
        return record(LEMMA_3_10, "rate", measurement, "inconclusive", measurement.problem, params)
    constant_dependence(LEMMA_3_10, "rate")
    k = measurement.lower_bound
    unit = evaluate(LEMMA_3_10, {**params, "C": 1}, form="rate")
    if unit.enclosure.upper.is_zero():
        reason = (
            f"at m = 1, ln m = 0 makes C r (m+n) ln m = 0 for every C, below the certified Pdim >= {k}: no C exists, so the "
            "rebuilt rate form cannot hold for every positive integer m (the printed form is [N]; it was presumably meant for m >= 2)"
        )
        return record(LEMMA_3_10, "rate", measurement, "violated", reason, params, unit, details={"smallest_C": None})
    with ctx.workprec(unit.enclosure.precision_bits):
        smallest = float_below(arb(k) / unit.enclosure.upper)
    reason = f"the constant C is unspecified; the certified Pdim >= {k} requires C >= {smallest:.6g}"
    details = {
        "smallest_C": smallest,
        "value_at_C_1": [float_below(unit.enclosure.lower), float_above(unit.enclosure.upper)],
    }
    return record(LEMMA_3_10, "rate", measurement, "inconclusive", reason, params, details=details)


def lower_bound_record(measurement: Measurement) -> Verdict:
    """``bhlm2019.thm3_lower``: ``W L log2(W/L)/C`` with ``W`` the class's parameter count, ``L = 2``.

    An existence statement (some architecture with at most ``L`` layers and ``W`` parameters)
    with an unspecified universal ``C``: nothing about this class follows. The details give
    the value at ``C = 1`` and ``C_met = value / k``, the ``C`` from which this class's
    certified bound meets ``W L log2(W/L)/C`` (rounded up).
    """
    cls = measurement.result.function_class
    params: dict[str, object] = {"W": cls.parameter_count, "L": RELU_LAYERS}
    if measurement.problem:
        return record(BHLM_THM3_LOWER, "vcdim_lower", measurement, "inconclusive", measurement.problem, params)
    constant_dependence(BHLM_THM3_LOWER, "vcdim_lower")
    k = measurement.lower_bound
    unit = evaluate(BHLM_THM3_LOWER, {**params, "C": 1})
    with ctx.workprec(unit.enclosure.precision_bits):
        met = float_above(unit.enclosure.upper / arb(k))
    reason = (
        "existence statement with an unspecified universal constant C; this class's certified "
        f"Pdim >= {k} meets W L log2(W/L)/C for C >= {met:.6g}"
    )
    details = {
        "value_at_C_1": [float_below(unit.enclosure.lower), float_above(unit.enclosure.upper)],
        "C_met": met,
    }
    return record(BHLM_THM3_LOWER, "vcdim_lower", measurement, "inconclusive", reason, params, details=details)


def class_records(measurement: Measurement) -> list[Verdict]:
    """The four records of one class (see the module docstring)."""
    architecture = rank_r_architecture(measurement.result.function_class)
    thm6 = evaluate(BHLM_THM6, architecture)
    return [
        upper_bound_record(BHLM_THM6, "vcdim", measurement, architecture, thm6),
        lemma_bhlm_record(measurement, thm6),
        rate_record(measurement),
        lower_bound_record(measurement),
    ]


def run(context: CheckContext) -> list[Verdict]:
    """Search every class of the context's scale and confront each lower bound with the statements."""
    measurements = measure(PLANS[context.scale], context.seed)
    return [verdict for measurement in measurements for verdict in class_records(measurement)]


CHECKS = (
    Check(
        CHECK_NAME,
        statements=STATEMENT_IDS,
        run=run,
        description=(
            "Certified shattering lower bounds on Pdim of tiny rank-r two-layer ReLU nets against the "
            "BHLM / Lemma 3.10 upper bounds, with the constants the rate forms would need"
        ),
    ),
)

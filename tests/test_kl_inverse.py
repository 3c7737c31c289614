"""The certified binary-kl inversion against independent computations, and its bound."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from click.testing import CliRunner
from flint import arb, ctx, fmpq
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from derivations.functions import kl_inverse as KlInverseFunction
from numerics.evaluation import ParameterError, evaluate, evaluate_float
from numerics.evaluation.special import kl_inverse, kl_inverse_ball, kl_inverse_mp, kl_inverse_numpy
from numerics.regression import regress
from rankbound.cli import cli
from tests import bound_implementations as impl

OCCAM = "langford2005.occam_kl"


def _kl_mp(q: mpmath.mpf, p: mpmath.mpf) -> mpmath.mpf:
    """The binary kl in mpmath's global context at its working precision (0 ln 0 = 0)."""
    first = q * mpmath.log(q / p) if q > 0 else mpmath.mpf(0)
    second = (1 - q) * mpmath.log((1 - q) / (1 - p)) if q < 1 else mpmath.mpf(0)
    return first + second


def _findroot_in_p(q: Fraction, c: Fraction, dps: int = 120) -> mpmath.mpf:
    """An independent root: mpmath's Illinois method on p itself, at high precision (its own
    error, from the flatness of kl near q, stays below 1e-90 at the points of these tests)."""
    with mpmath.workdps(dps):
        qm, cm = mpmath.mpf(q.numerator) / q.denominator, mpmath.mpf(c.numerator) / c.denominator
        high = (1 + qm) / 2
        while _kl_mp(qm, high) <= cm:  # halve the distance to 1 until the root is bracketed
            high = (1 + high) / 2
        return mpmath.findroot(lambda p: _kl_mp(qm, p) - cm, (qm, high), solver="illinois", maxsteps=500)


def _binary_kl_float(q: float, p: float) -> float:
    """kl(q || p) in float64 through log1p of the small ratios (plain logs of (1-q)/(1-p) ~ 1
    lose up to 1e-12 relative in the root)."""
    d = p - q
    return (-q * math.log1p(d / q) if q > 0 else 0.0) + (1 - q) * math.log1p(d / (1 - p))


POINTS = [
    (Fraction(58, 1000), Fraction(1, 4)),
    (Fraction(1, 2), Fraction(1, 10**12)),
    (Fraction(1, 10**5), Fraction(1, 10**11)),
    (Fraction(99999, 10**5), Fraction(1, 10**11)),
    (Fraction(1, 3), Fraction(7, 3)),
    (Fraction(3, 7), Fraction(1, 20)),
    (Fraction(1, 60000), Fraction(3, 1000)),
]


@pytest.mark.parametrize("q, c", POINTS, ids=lambda v: str(v))
def test_enclosure_contains_an_independent_mpmath_root(q, c):
    result = kl_inverse(q, c, dps=40)
    root = _findroot_in_p(q, c)
    with mpmath.workdps(120):
        slack = root * mpmath.mpf(10) ** -90
        assert mpmath.mpf(result.lower.numerator) / result.lower.denominator <= root + slack
        assert root - slack <= mpmath.mpf(result.upper.numerator) / result.upper.denominator
    assert result.width <= result.upper * Fraction(1, 10**40)


@pytest.mark.parametrize("q, c", POINTS, ids=lambda v: str(v))
def test_ends_satisfy_the_defining_inequalities(q, c):
    """kl(q || upper) >= c (so upper >= the supremum) and kl(q || lower) <= c, at 100 digits."""
    result = kl_inverse(q, c, dps=25)
    with mpmath.workdps(100):
        qm, cm = mpmath.mpf(q.numerator) / q.denominator, mpmath.mpf(c.numerator) / c.denominator
        upper = mpmath.mpf(result.upper.numerator) / result.upper.denominator
        lower = mpmath.mpf(result.lower.numerator) / result.lower.denominator
        assert upper == 1 or _kl_mp(qm, upper) >= cm
        assert lower <= qm or _kl_mp(qm, lower) <= cm


@settings(max_examples=60, deadline=None)
@given(
    q=st.fractions(min_value=0, max_value=1, max_denominator=10**6),
    c=st.fractions(min_value=0, max_value=50, max_denominator=10**6),
)
def test_scipy_brentq_lies_in_the_enclosure(q, c):
    result = kl_inverse(q, c, dps=20)
    qf, cf = float(q), float(c)
    below_one = math.nextafter(1.0, 0.0)
    if q == 1:
        expected = 1.0
    elif c == 0:
        expected = qf
    elif q == 0:
        expected = -math.expm1(-cf)
    elif _binary_kl_float(qf, below_one) <= cf:
        expected = 1.0  # the root is closer to 1 than float64 resolves
    else:
        expected = brentq(lambda p: _binary_kl_float(qf, p) - cf, qf, below_one, xtol=1e-300, rtol=1e-15)
    assert float(result.lower) * (1 - 1e-12) <= expected <= float(result.upper) * (1 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(c=st.fractions(min_value=0, max_value=700, max_denominator=10**9))
def test_closed_form_at_zero_training_error(c):
    """kl^{-1}(0, c) = 1 - e^{-c}, evaluated by mpmath at 60 digits."""
    result = kl_inverse(0, c, dps=30)
    with mpmath.workdps(60):
        exact = -mpmath.expm1(-mpmath.mpf(c.numerator) / c.denominator)
        assert mpmath.mpf(result.lower.numerator) / result.lower.denominator <= exact
        assert exact <= mpmath.mpf(result.upper.numerator) / result.upper.denominator


def test_edge_values_are_exact():
    assert kl_inverse(1, 5).upper == 1 and kl_inverse(1, 5).width == 0
    assert kl_inverse("0.3", 0).upper == Fraction(3, 10) and kl_inverse("0.3", 0).width == 0


def test_monotone_in_both_arguments():
    uppers = [kl_inverse(Fraction(k, 100), Fraction(1, 10)).upper for k in range(0, 101, 5)]
    assert uppers == sorted(uppers)
    uppers = [kl_inverse(Fraction(1, 10), Fraction(k, 100)).upper for k in range(0, 300, 7)]
    assert uppers == sorted(uppers)


def test_sympy_evalf_mp_engine_and_numpy_agree():
    """Three further engines: SymPy's evalf (findroot in the log-odds), the mp engine's
    bisection in p and NumPy's float64 bisection."""
    for q, c in POINTS:
        certified = kl_inverse(q, c, dps=30)
        via_sympy = sympy.N(KlInverseFunction(sympy.Rational(q.numerator, q.denominator), sympy.Rational(c.numerator, c.denominator)), 35)
        context = mpmath.MPContext()
        context.prec = 200
        via_mp = kl_inverse_mp(context, context.mpf(q.numerator) / q.denominator, context.mpf(c.numerator) / c.denominator)
        for value in (Fraction(str(via_sympy)), Fraction(context.nstr(via_mp, 50))):
            assert abs(value - certified.upper) <= certified.upper * Fraction(1, 10**28)
        assert float(kl_inverse_numpy(float(q), float(c))) == pytest.approx(float(certified.upper), rel=1e-12)


def test_ball_inputs_are_handled_through_their_ends():
    with ctx.workprec(128):
        wide = arb(fmpq(1, 4)).union(arb(fmpq(1, 2)))
        ball = kl_inverse_ball(fmpq(1, 10), wide)
        assert ball.lower() <= arb(float(kl_inverse("0.1", "0.25").lower))
        assert ball.upper() >= arb(float(kl_inverse("0.1", "0.5").upper))
        with pytest.raises(ValueError, match="c >= 0"):
            kl_inverse_ball(fmpq(1, 10), arb(-1))


@pytest.mark.parametrize("q, c, name", [("1.5", "0.1", "q"), ("-0.1", "0.1", "q"), ("0.1", "-1", "c"), ("abc", "0.1", "q")])
def test_bad_arguments_raise_one_named_error(q, c, name):
    with pytest.raises(ParameterError, match=rf"^{name}="):
        kl_inverse(q, c)


# --------------------------------------------------------------- the Occam statement
def test_statement_value_is_the_inversion_at_its_argument():
    params = {"n": 60000, "errors": 3480, "bits": 21837, "delta": "0.05"}
    result = evaluate(OCCAM, params, dps=30)
    with mpmath.workdps(60):
        c = (21837 * mpmath.log(2) + mpmath.log(20)) / 60000
        root = _findroot_in_p(Fraction(3480, 60000), Fraction(mpmath.nstr(c, 60)))
    assert Fraction(result.lower) <= Fraction(mpmath.nstr(root, 40)) * (1 + Fraction(1, 10**35))
    assert Fraction(mpmath.nstr(root, 40)) <= Fraction(result.upper) * (1 + Fraction(1, 10**35))
    assert result.value.startswith("0.35547067878")  # the prototype: 0.355


def test_hypothesis_and_domains_are_enforced():
    with pytest.raises(ParameterError, match="errors <= n"):
        evaluate(OCCAM, {"n": 10, "errors": 11, "bits": 5, "delta": "0.05"})
    with pytest.raises(ParameterError, match="delta"):
        evaluate(OCCAM, {"n": 10, "errors": 1, "bits": 5, "delta": 1})


def test_float_grid_agrees_with_certified_values():
    bits = np.array([0, 100, 5000, 21837])
    grid = evaluate_float(OCCAM, {"n": 60000, "errors": 3000, "bits": bits, "delta": 0.05})
    for value, b in zip(grid, bits):
        assert value == pytest.approx(float(evaluate(OCCAM, {"n": 60000, "errors": 3000, "bits": int(b), "delta": 0.05}, dps=20).value), rel=1e-12)


def test_cli_eval_prints_the_enclosure():
    result = CliRunner().invoke(cli, ["eval", OCCAM, "n=60000", "errors=3480", "bits=21837", "delta=0.05", "--json", "--dps", "20"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert Fraction(payload["lower"]) <= Fraction(payload["upper"]) and payload["vacuous"] is False
    assert Fraction(payload["upper"]) - Fraction(payload["lower"]) < Fraction(1, 10**20)
    bad = CliRunner().invoke(cli, ["eval", OCCAM, "n=10", "errors=11", "bits=5", "delta=0.05"])
    assert bad.exit_code == 2 and "errors <= n" in bad.output


# --------------------------------------------------------------- the regression harness
def test_a_careful_bisection_agrees_everywhere():
    report = regress(OCCAM, impl.occam_kl, points=80)
    assert report.ok, report.table()


def test_a_bisection_returning_the_midpoint_is_caught():
    report = regress(OCCAM, impl.occam_kl_midpoint, points=80)
    assert not report.ok
    statuses = {r.status for r in report.failures}
    assert "below" in statuses  # values below the root: no bound at all
    assert statuses <= {"below", "above"}
    assert all(r.relative_error > 1e-9 for r in report.failures)

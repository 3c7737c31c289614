"""Hostile and extreme input to the certified evaluator: answers or one clear error, bounded.

Every statement of the catalogue is evaluated with each parameter pushed to the ends of
its domain (1e-300, 1e300, the value-size limit, huge integers); each call must return
a finite certified value or raise the evaluator's own clear errors, in a worker process
with a generous deadline, so that a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import json
import math
import re
import sys
from fractions import Fraction
from functools import partial

import pytest
from click.testing import CliRunner

from derivations import registry
from derivations.statement import Parameter
from numerics.evaluation import CertificationError, EngineDisagreement, ParameterError, bind, evaluate, evaluate_float
from numerics.evaluation.binding import MAX_EXPANDED_NODES, MAX_VALUE_DIGITS, to_fraction
from numerics.evaluation.digits import short_decimal
from numerics.evaluation.points import generate_points
from numerics.isolated import RETURNED, Worker
from rankbound.cli import cli
from tests.catalogue_tasks import pair_id, statement_forms

certified_module = sys.modules["numerics.evaluation.certified"]
evaluate_module = sys.modules["numerics.evaluation.evaluate"]

#: a deadline no evaluation should come near (the slowest extreme point takes seconds)
GENEROUS_SECONDS = 600
TINY, HUGE = Fraction(1, 10**300), Fraction(10**300)
LIMIT_TINY, LIMIT_HUGE = Fraction(1, 10 ** (MAX_VALUE_DIGITS - 1)), Fraction(10 ** (MAX_VALUE_DIGITS - 1))


def _inside(parameter: Parameter, value: Fraction) -> bool:
    return parameter.domain.violation(value) is None


def _extremes(parameter: Parameter) -> list[Fraction]:
    """Values at the ends of the parameter's domain and of the accepted magnitudes."""
    domain = parameter.domain
    if domain.integer:
        low = domain.lower + (1 if domain.lower_open else 0) if domain.lower is not None else Fraction(-(10**300))
        candidates = [low, HUGE, LIMIT_HUGE, Fraction(domain.upper) if domain.upper is not None else HUGE]
    else:
        candidates = [TINY, HUGE, LIMIT_TINY, LIMIT_HUGE, -HUGE, -TINY]
        if domain.lower is not None:
            candidates += [domain.lower + TINY, domain.lower + LIMIT_TINY]
        if domain.upper is not None:
            candidates += [domain.upper - TINY, domain.upper - LIMIT_TINY]
    return sorted({value for value in candidates if _inside(parameter, value)})


def _probes(statement, form) -> list[dict[str, object]]:
    """A valid base point with one parameter (or every one) moved to an extreme."""
    (base,) = generate_points(statement, 1, form=form.name, seed=3)
    parameters = [statement.parameter(name) for name in base]
    probes = []
    for parameter in parameters:
        for value in _extremes(parameter):
            point = dict(base)
            point[parameter.name] = [value] * len(base[parameter.name]) if parameter.is_sequence else value
            probes.append(point)
    for pick in (min, max):  # every parameter at once at its smallest, then its largest extreme
        point = dict(base)
        for parameter in parameters:
            extreme = pick(_extremes(parameter), key=abs)
            point[parameter.name] = [extreme] * len(base[parameter.name]) if parameter.is_sequence else extreme
        probes.append(point)
    return probes


def _evaluate_all(request: tuple[str, str, list[dict[str, object]]]) -> list[tuple[str, str]]:
    """In the worker: each probe's value, or the name and message of the clear error it raised."""
    statement_id, form, probes = request
    outcomes = []
    for point in probes:
        try:
            result = evaluate(statement_id, point, dps=20, form=form)
        except (ParameterError, CertificationError) as error:
            outcomes.append((type(error).__name__, str(error)))
        else:
            outcomes.append(("value", result.value))
    return outcomes


@pytest.mark.parametrize("pair", statement_forms(), ids=pair_id)
def test_every_statement_answers_or_fails_clearly_at_extreme_magnitudes(pair):
    statement, form = pair
    probes = _probes(statement, form)
    with Worker(_evaluate_all, timeout=GENEROUS_SECONDS) as worker:
        outcome = worker.call((statement.id, form.name, probes))
    assert outcome.kind == RETURNED, outcome.detail
    for point, (kind, text) in zip(probes, outcome.value):
        if kind == "value":
            assert re.fullmatch(r"-?\d+(\.\d+)?(e[+-]\d+)?", text), (point, text)
        else:
            assert text.startswith(statement.id) or any(name in text for name in point), (point, text)
            assert "\n" not in text and len(text) < 2000


# ------------------------------------------------------------------------ parsing limits
def test_long_integers_and_exponents_are_accepted_alike():
    written = "1" + "0" * 4400
    assert to_fraction("m", written) == to_fraction("m", "1e4400") == 10**4400
    assert to_fraction("m", "-12/4") == -3 and to_fraction("m", ".5e-1") == Fraction(1, 20)


@pytest.mark.parametrize(
    "raw",
    ["1" + "0" * MAX_VALUE_DIGITS, f"1e{MAX_VALUE_DIGITS}", f"1e-{MAX_VALUE_DIGITS}", "1e99999999999999999999", 10**MAX_VALUE_DIGITS],
    ids=["written", "exponent", "negative_exponent", "exponent_of_20_digits", "int"],
)
def test_values_beyond_the_digit_limit_are_named(raw):
    with pytest.raises(ParameterError, match=rf"^m=.*too many digits.*10\^{MAX_VALUE_DIGITS}"):
        to_fraction("m", raw)


def test_huge_values_in_messages_are_formatted():
    with pytest.raises(ParameterError, match=r"m=-1e\+5000: must be >= 1"):
        evaluate("schatten_ball.lemma_s1", {"m": -(10**5000), "n": 5, "p": "0.5", "R": 1, "eps": "0.1"})
    assert short_decimal(Fraction(10**5000 + 1)) == "~1.000000e+5000"
    assert short_decimal(Fraction(1, 3)) == "~3.333333e-1" and short_decimal(Fraction(1, 10)) == "0.1"


@pytest.mark.parametrize("raw", ["1,,1", "1,1,", ",1,1"])
def test_empty_items_of_a_sequence_are_errors(raw):
    with pytest.raises(ParameterError, match=r"^rho=.*empty"):
        bind("bartlett2017.spectral_complexity", {"rho": raw, "s": "1,1", "b": "1,1"})


def test_eval_json_of_a_5000_digit_parameter_is_exact():
    W = "1" + "0" * 5000
    result = CliRunner().invoke(cli, ["eval", "chen2024.thm3_8", f"W={W}", "L=1", "C=1", "--json", "--dps", "20"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["params"]["W"] == W
    assert payload["cross_check"].startswith("not cross-checked: this point may need")  # 5000-digit values
    # C L W log W = 10^5000 * 5000 ln 10 = 1.1512925464970229e+5004
    for key in ("lower", "value", "upper"):
        mantissa, exponent = payload[key].split("e+")
        assert exponent == "5004" and float(mantissa) == pytest.approx(math.log(10) / 2, rel=1e-15)


# ------------------------------------------------------------------------ bounded time and memory
def test_tiny_schatten_exponent_is_decided_with_balls():
    """p = 1e-300 (and 1e-9999): (2R/eps)^(2p/(2-p)) exceeds 1 by about 3e-300, so k* = 1."""
    for p in ("1e-300", "1e-9999"):
        result = evaluate("schatten_ball.lemma_s1", {"m": 100, "n": 50, "R": 1, "eps": "0.1", "p": p}, dps=30)
        assert Fraction(result.lower) <= Fraction(151) * Fraction(math.log(180)) * (1 + Fraction(1, 10**14))
        assert float(result.value) == pytest.approx(151 * math.log(180), rel=1e-15)


def test_a_long_sum_is_evaluated_and_matches_exact_integers():
    """Theorem 12.2's sum at d = 5000 (it needed minutes, and failed to compile in mpmath)."""
    d, m = 5000, 9000
    exact, term = 0, 1
    for i in range(d):  # binomial(m, i + 1) 10^(i + 1) from binomial(m, i) 10^i
        term = term * (m - i) * 10 // (i + 1)
        exact += term
    result = evaluate("anthony_bartlett1999.thm12_2", {"d": d, "m": m, "B": 1, "eps": "0.1"}, dps=30)
    assert Fraction(result.lower) <= exact <= Fraction(result.upper)
    assert result.cross_check == "agrees"


def test_sums_beyond_the_expansion_limit_are_refused_with_the_parameter_named():
    for d in ("1e300", str(MAX_EXPANDED_NODES + 1), "100000"):
        with pytest.raises(ParameterError, match=rf"d=.* past {MAX_EXPANDED_NODES} .*variant=closed_form"):
            evaluate("anthony_bartlett1999.thm12_2", {"d": d, "m": "1e300", "B": 1, "eps": "0.1"})
    closed = evaluate("anthony_bartlett1999.thm12_2", {"d": "1e30", "m": "1e300", "B": 1, "eps": "0.1"}, form="closed_form", dps=20)
    # (e m B / (d eps))^d = (e 10^271)^(10^30) = 10^(10^30 (271 + log10 e)), log10 e = 0.4342944819...
    exponent = closed.upper.split("e+")[1]
    assert len(exponent) == 33 and exponent.startswith("2714342944819")


def test_long_sums_compile_on_the_float_path():
    grid = evaluate_float("schatten.quasinorm", {"k": 5000, "sigma": [0.5] * 5000, "p": 2.0})
    assert float(grid) == pytest.approx(math.sqrt(5000 * 0.25), rel=1e-12)


# ------------------------------------------------------------------------ the cross-check at extreme magnitudes
@pytest.mark.parametrize(
    "statement_id, params, exact",
    [
        ("anthony_bartlett1999.thm12_2", {"d": 5, "m": "1e300", "B": 1, "eps": "0.1"}, sum(math.comb(10**300, i) * 10**i for i in range(1, 6))),
        ("candes_plan2011.lemma3_1", {"n1": 10**9, "n2": 10**9, "r": 10**9, "eps": "0.5"}, None),
        ("anthony_bartlett1999.thm18_4", {"d": 3 * 10**9, "B": 1, "eps": "0.01"}, None),
    ],
    ids=["binomial_of_1e300", "net_of_1e9", "pseudo_dimension_3e9"],
)
def test_mpmath_keeps_up_at_extreme_magnitudes(statement_id, params, exact):
    result = evaluate(statement_id, params, dps=40)
    assert result.cross_check == "agrees"
    if exact is not None:
        assert Fraction(result.lower) <= exact <= Fraction(result.upper)
        assert abs(Fraction(result.value) - exact) <= exact * Fraction(1, 10**39)


def test_a_cross_check_that_cannot_converge_is_reported_not_raised(monkeypatch):
    """mpmath values that change with the precision and miss the enclosure: a note, not an error."""
    from numerics.evaluation import mp as mp_engine

    real = mp_engine.evaluate_mp
    monkeypatch.setattr(mp_engine, "evaluate_mp", lambda point, digits, *a, **k: real(point, digits, *a, **k) + digits)
    result = evaluate("chen2024.thm3_8", {"W": 1000, "L": 3, "C": 1}, dps=30)
    assert result.cross_check == f"not cross-checked: mpmath has not converged at {evaluate_module.MAX_CROSS_CHECK_DIGITS} digits at this magnitude"
    assert abs(Fraction(result.value) - Fraction(result.lower)) <= Fraction(result.upper) * Fraction(1, 10**29)


def test_points_needing_too_many_digits_are_not_cross_checked():
    """(1e-9999)^(1e-9999) is 1 to mpmath below 9995 digits: the point is certified only."""
    result = evaluate("schatten.quasinorm", {"k": 1, "sigma": "1e-9999", "p": "1e-9999"}, dps=20)
    assert result.cross_check.startswith("not cross-checked: this point may need")
    assert Fraction(result.lower) <= Fraction(1, 10**9999) <= Fraction(result.upper)


def test_a_cross_check_out_of_time_is_reported(monkeypatch):
    monkeypatch.setattr(evaluate_module, "CROSS_CHECK_SECONDS", 0.0)
    result = evaluate("anthony_bartlett1999.thm12_2", {"d": 50, "m": 80, "B": 1, "eps": "0.5"}, dps=30)
    assert result.cross_check.startswith("not cross-checked: mpmath took more than")
    exact = sum(math.comb(80, i) * 2**i for i in range(1, 51))
    assert Fraction(result.lower) <= exact <= Fraction(result.upper)


def test_converged_disagreement_still_raises(monkeypatch):
    from numerics.evaluation import mp as mp_engine

    real = mp_engine.evaluate_mp
    monkeypatch.setattr(mp_engine, "evaluate_mp", lambda *a, **k: real(*a, **k) * 2)
    with pytest.raises(EngineDisagreement):
        evaluate("chen2024.thm3_8", {"W": 1000, "L": 3, "C": 1}, dps=30)


# ------------------------------------------------------------------------ the command line
@pytest.mark.parametrize(
    "args, message",
    [
        (("anthony_bartlett1999.thm12_2", "d=1e300", "m=1e300", "B=1", "eps=0.1"), "d=1e+300 would expand"),
        (("bartlett2017.spectral_complexity", "rho=1,,1", "s=1,1", "b=1,1"), "rho='1,,1': item 2"),
        (("schatten_ball.lemma_s1", "m=1" + "0" * 10001, "n=5", "p=0.5", "R=1", "eps=0.1"), "m='" + "1" + "0" * 36 + "...': too many digits"),
        (("candes_plan2011.lemma3_1", "n1=1e9999", "n2=1e9999", "r=1e9999", "eps=0.5"), "could not certify the requested digits below 65536 bits"),
    ],
    ids=["sum_too_long", "empty_item", "too_many_digits", "overflow"],
)
def test_extreme_input_on_the_command_line_is_one_line(args, message):
    result = CliRunner().invoke(cli, ["eval", *args])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.output


def test_uncertifiable_input_on_the_command_line_is_one_line(monkeypatch):
    monkeypatch.setattr(certified_module, "MAX_PRECISION_BITS", 512)
    result = CliRunner().invoke(cli, ["eval", "schatten_ball.lemma_s1", "m=100", "n=50", "R=1", "eps=0.1", "p=1e-300"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: schatten_ball.lemma_s1: could not certify") and result.output.count("\n") == 1


def test_engine_disagreement_on_the_command_line_is_one_line(monkeypatch):
    from numerics.evaluation import mp as mp_engine

    real = mp_engine.evaluate_mp
    monkeypatch.setattr(mp_engine, "evaluate_mp", lambda *a, **k: real(*a, **k) * 2)
    result = CliRunner().invoke(cli, ["eval", "chen2024.thm3_8", "W=1000", "L=3", "C=1"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "please report" in result.output


def test_the_worker_deadline_reports_a_hang():
    with Worker(partial(_spin), timeout=1) as worker:
        outcome = worker.call(None)
    assert outcome.kind == "timeout"


def _spin(request: object) -> None:
    while True:
        pass

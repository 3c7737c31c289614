"""The regression harness catches wrong bound implementations in either direction."""

from __future__ import annotations

import json
import os
import re
import sys
from fractions import Fraction

import pytest
from click.testing import CliRunner

from numerics.evaluation.digits import short_decimal
from numerics.regression import regress
from rankbound.cli import cli
from rankbound.commands.errors import InputError
from rankbound.commands.regress import load_callable
from tests import bound_implementations as impl


@pytest.mark.parametrize(
    "statement_id, correct, form, backend",
    [
        ("schatten_ball.lemma_s1", impl.lemma_s1, None, "float"),
        ("schatten_ball.lemma_s1", impl.lemma_s1_bisection, None, "float"),
        ("chen2024.prop3_6_explicit", impl.prop3_6_explicit, None, "float"),
        ("chen2024.prop3_6_explicit", impl.prop3_6_explicit_mpmath, None, "mpmath"),
        ("chen2024.thm2_6", impl.thm2_6, "2B", "float"),
    ],
)
def test_correct_implementations_agree_everywhere(statement_id, correct, form, backend):
    report = regress(statement_id, correct, form=form, points=60, backend=backend, rtol=1e-9 if backend == "float" else 1e-25)
    assert report.ok, report.table()
    assert len(report.results) == 60


@pytest.mark.parametrize(
    "statement_id, wrong, form, side",
    [
        ("chen2024.prop3_6_explicit", impl.prop3_6_explicit_parenthesis, None, "above"),
        ("schatten_ball.lemma_s1", impl.lemma_s1_log2, None, "above"),
        ("schatten_ball.lemma_s1", impl.lemma_s1_bisection_midpoint, None, "below"),
        ("chen2024.thm2_6", impl.thm2_6_wrong_constant, "2B", "below"),
    ],
)
def test_wrong_implementations_are_caught(statement_id, wrong, form, side):
    report = regress(statement_id, wrong, form=form, points=60)
    assert not report.ok
    assert {r.status for r in report.failures} == {side}
    assert str(report.failures[0].index) in report.table()


def test_looser_values_fail_as_much_as_tighter_ones():
    looser = regress("chen2024.thm2_6", lambda B, eps, mu: 2 * B * eps / mu * (1 + 1e-6), form="2B", points=20)
    tighter = regress("chen2024.thm2_6", lambda B, eps, mu: 2 * B * eps / mu * (1 - 1e-6), form="2B", points=20)
    assert {r.status for r in looser.failures} == {"above"} and len(looser.failures) == 20
    assert {r.status for r in tighter.failures} == {"below"} and len(tighter.failures) == 20
    within = regress("chen2024.thm2_6", lambda B, eps, mu: 2 * B * eps / mu * (1 + 1e-12), form="2B", points=20)
    assert within.ok


def test_exceptions_and_non_finite_values_are_reported_per_point():
    def broken(B, eps, mu):
        if B > 100:
            raise ZeroDivisionError("boom")
        return float("nan")

    report = regress("chen2024.thm2_6", broken, form="2B", points=30)
    statuses = {r.status for r in report.results}
    assert statuses <= {"error", "non-finite"} and "non-finite" in statuses
    assert any("ZeroDivisionError: boom" in r.detail for r in report.results if r.status == "error") or "error" not in statuses


def test_values_beyond_float64_are_out_of_range_not_failures():
    def naive(n1, n2, r, eps):
        try:
            return (9 / eps) ** ((n1 + n2 + 1) * r)
        except OverflowError:
            return float("inf")

    report = regress("candes_plan2011.lemma3_1", naive, points=40)
    assert any(r.status == "out_of_range" for r in report.results)
    assert report.ok, report.table()


def test_bad_harness_options_are_named():
    with pytest.raises(ValueError, match="rtol"):
        regress("chen2024.thm2_6", impl.thm2_6, rtol=0)
    with pytest.raises(ValueError, match="backend"):
        regress("chen2024.thm2_6", impl.thm2_6, backend="decimal")


def test_pytest_fixture_passes_and_fails(bound_regression):
    report = bound_regression("chen2024.thm2_6", impl.thm2_6, form="2B", points=10)
    assert report.ok
    with pytest.raises(pytest.fail.Exception, match="below"):
        bound_regression("chen2024.thm2_6", impl.thm2_6_wrong_constant, form="2B", points=10)


# ------------------------------------------------------------------------ hostile implementations
def _exits(B, eps, mu):
    sys.exit(0)


def _ends_process(B, eps, mu):
    os._exit(0)


def _interrupts(B, eps, mu):
    raise KeyboardInterrupt


def _spins(B, eps, mu):
    while True:
        pass


@pytest.mark.parametrize(
    "escape, detail",
    [(_exits, "SystemExit: 0"), (_interrupts, "KeyboardInterrupt"), (_ends_process, "ended the worker process (exit status 0)")],
    ids=["sys.exit", "KeyboardInterrupt", "os._exit"],
)
def test_escapes_from_the_implementation_are_errors_at_every_point(escape, detail):
    report = regress("chen2024.thm2_6", escape, form="2B", points=4)
    assert not report.ok and len(report.results) == 4
    assert {r.status for r in report.results} == {"error"} and all(detail in r.detail for r in report.results)


def test_a_hanging_implementation_times_out_and_stops_the_run(bound_regression):
    report = regress("chen2024.thm2_6", _spins, form="2B", points=5, timeout=0.5)
    assert [r.status for r in report.results] == ["timeout"] and report.not_run == 4 and not report.ok
    assert "stopped after a timeout, 4 point(s) not run" in report.summary()
    with pytest.raises(pytest.fail.Exception, match="timeout"):
        bound_regression("chen2024.thm2_6", _spins, form="2B", points=2, timeout=0.5)


def test_zero_comparisons_is_an_error(bound_regression):
    for check in (regress, bound_regression):
        with pytest.raises(ValueError, match="points=0 and no extra_points"):
            check("chen2024.thm2_6", impl.thm2_6_wrong_constant, form="2B", points=0)
    extra = regress("chen2024.thm2_6", impl.thm2_6_wrong_constant, form="2B", points=0, extra_points=[{"B": "3", "eps": "0.5", "mu": "2"}])
    assert [r.status for r in extra.results] == ["below"]


@pytest.mark.parametrize("returned, status", [(float("nan"), "non-finite"), (float("-inf"), "non-finite"), (float("inf"), "out_of_range")])
def test_nan_is_never_agreement_beyond_the_float_range(returned, status):
    """At n1 = n2 = 1000, r = 100, eps = 0.01 the net size exceeds the float range."""
    point = {"n1": "1000", "n2": "1000", "r": "100", "eps": "0.01"}
    report = regress("candes_plan2011.lemma3_1", lambda n1, n2, r, eps: returned, points=0, extra_points=[point])
    assert [r.status for r in report.results] == [status]
    assert report.ok is (status == "out_of_range")


@pytest.mark.parametrize("returned", ["2.0", True, None, 1j, object()], ids=["str", "bool", "None", "complex", "object"])
def test_a_value_that_is_not_a_real_number_is_an_error(returned):
    report = regress("chen2024.thm2_6", lambda B, eps, mu: returned, form="2B", points=2)
    assert {r.status for r in report.results} == {"error"} and all("returned" in r.detail for r in report.results)


def test_an_integer_too_long_for_str_is_compared_and_shown():
    report = regress("chen2024.thm2_6", lambda B, eps, mu: 10**5000, form="2B", points=3)
    assert {r.status for r in report.results} == {"above"}
    assert "1e+5000" in report.table()
    payload = json.dumps(report.to_json(), allow_nan=False)  # strict JSON: an infinite error is null
    assert json.loads(payload)["failures"][0]["got"] == "1e+5000"


def test_an_exact_huge_integer_agrees():
    exact = 2 * 10**400 * 3  # thm2_6 [2B]: 2 B eps / mu at B = 10^400, eps = 3, mu = 1
    report = regress("chen2024.thm2_6", lambda B, eps, mu: 2 * B * 3, form="2B", points=0, extra_points=[{"B": "1e400", "eps": "3", "mu": "1"}], backend="mpmath")
    assert report.ok and report.results[0].shown == short_decimal(Fraction(exact))


@pytest.mark.parametrize(
    "option, message",
    [({"seed": -1}, "seed=-1"), ({"points": 1.5}, "points=1.5"), ({"rtol": float("inf")}, "rtol=inf"), ({"timeout": 0}, "timeout=0"), ({"dps": 0}, "dps=0")],
)
def test_bad_harness_options_are_named_before_any_call(option, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        regress("chen2024.thm2_6", impl.thm2_6, form="2B", **option)


# ------------------------------------------------------------------------ the command line
HOSTILE_MODULE = '''
import os, signal, sys, time

def exits(B, eps, mu):
    sys.exit(0)

def spins(B, eps, mu):
    while True:
        pass

def huge(B, eps, mu):
    return 10**5000

def chatty(B, eps, mu):
    print("not JSON")
    return 2 * B * eps / mu
'''


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    (tmp_path / "hostile.py").write_text(HOSTILE_MODULE)
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(0)\n")
    (tmp_path / "interrupts_on_import.py").write_text("raise KeyboardInterrupt\n")
    (tmp_path / "spins_on_import.py").write_text("while True:\n    pass\n")
    (tmp_path / "signalled_on_import.py").write_text("import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(5)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return CliRunner()


@pytest.mark.parametrize(
    "target, options, text",
    [
        ("hostile:exits", (), "SystemExit: 0"),
        ("hostile:spins", ("--timeout", "0.5"), "stopped after a timeout"),
        ("hostile:huge", (), "1e+5000"),
    ],
    ids=["sys.exit", "hang", "huge_int"],
)
def test_regress_command_fails_loudly_on_hostile_implementations(hostile, target, options, text):
    result = hostile.invoke(cli, ["regress", "chen2024.thm2_6", target, "--variant", "2B", "--points", "3", *options])
    assert result.exit_code == 1 and "FAILED" in result.output and text in result.output


def test_regress_json_stays_strict_when_the_implementation_prints(hostile):
    result = hostile.invoke(cli, ["regress", "chen2024.thm2_6", "hostile:chatty", "--variant", "2B", "--points", "3", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True


@pytest.mark.parametrize(
    "args, message",
    [
        (("exits_on_import:f",), "cannot import 'exits_on_import': SystemExit: 0"),
        (("interrupts_on_import:f",), "cannot import 'interrupts_on_import': KeyboardInterrupt"),
        (("hostile:exits", "--seed", "-1"), "-1 is not in the range x>=0"),
        (("hostile:exits", "--timeout", "0"), "0.0 is not in the range"),
    ],
)
def test_regress_command_usage_errors_are_one_line(hostile, args, message):
    result = hostile.invoke(cli, ["regress", "chen2024.thm2_6", *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_an_import_that_hangs_is_reported(hostile):
    with pytest.raises(InputError, match="still running after 1 s"):
        load_callable("spins_on_import:f", timeout=1)


def test_a_real_interrupt_during_the_import_still_interrupts(hostile):
    with pytest.raises(KeyboardInterrupt):
        load_callable("signalled_on_import:f")

"""Regression-test a user's implementation of a bound against certified reference values.

:func:`regress` calls ``implementation(**params)`` with the statement's parameter names as
keywords at generated points (orders of magnitude, edge regions, inside the declared
domains and hypotheses) and compares each returned value with the certified enclosure
of the statement's form. A point *disagrees* when the value lies outside the enclosure
by more than ``rtol`` relative to it, in either direction: a looser bound is as wrong as
a tighter one (a misplaced parenthesis, a wrong constant, ``log2`` for ``ln``, a
bisection returning a midpoint).

Values are passed as Python floats (``backend="float"``, integers as ``int``) or as
mpmath numbers at the requested precision (``backend="mpmath"``, and the implementation
then runs inside ``mpmath.workdps(dps)``); per-layer parameters as lists. A float
implementation cannot represent a reference value beyond the float64 range: such points
are ``out_of_range`` when it returns ``inf`` of the right sign, and not counted as
disagreements. NaN is never agreement.

The implementation runs in a worker process (:class:`numerics.isolated.Worker`), each
call with a deadline of ``timeout`` seconds: an exception of any kind (``SystemExit``
included), a call that ends the process, or a returned object that is not a number is an
``error`` at that point; a call past the deadline is a ``timeout`` and stops the run (the
report counts the points not run). A report with no comparison, a failure or a timeout
is not ``ok``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial

import mpmath
from flint import arb, ctx, fmpq, fmpz
from mpmath.libmp import finf, fninf, from_man_exp

from derivations import registry
from derivations.statement import Statement
from numerics.evaluation import evaluate
from numerics.evaluation.binding import to_fraction
from numerics.evaluation.digits import short_decimal
from numerics.evaluation.mp import to_ball, to_nstr
from numerics.evaluation.points import Point, generate_points
from numerics.isolated import RETURNED, TIMEOUT, Worker

#: default tolerance: a careful float64 implementation agrees to about 1e-15; summing many
#: terms or taking logs of nearly equal numbers loses a few digits
DEFAULT_RTOL = 1e-9
#: default deadline of one call of the implementation, in seconds
DEFAULT_TIMEOUT = 10.0
FLOAT_MAX = arb(sys.float_info.max)

BACKENDS = ("float", "mpmath")
#: statuses that fail a report
FAILING = ("above", "below", "error", "non-finite", "timeout")


@dataclass(frozen=True)
class PointResult:
    """One comparison: the point, the certified reference, the implementation's value."""

    index: int
    params: Point
    reference: str
    #: the returned number (an int, float, Fraction or mpf), None if there is none
    got: object
    relative_error: float
    status: str  # "agrees", "above", "below", "error", "non-finite", "out_of_range", "timeout"
    detail: str = ""
    #: the returned value as text (any magnitude), for tables and JSON
    shown: str = ""

    @property
    def disagrees(self) -> bool:
        return self.status in FAILING


@dataclass(frozen=True)
class RegressionReport:
    """The outcome of :func:`regress` over all points."""

    statement_id: str
    form: str
    rtol: float
    backend: str
    results: tuple[PointResult, ...] = field(default_factory=tuple)
    #: points not run because a call timed out
    not_run: int = 0

    @property
    def failures(self) -> tuple[PointResult, ...]:
        return tuple(r for r in self.results if r.disagrees)

    @property
    def ok(self) -> bool:
        """At least one comparison, every one agreeing (or out of float range), all points run."""
        return bool(self.results) and not self.failures and not self.not_run

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        parts = ", ".join(f"{counts[k]} {k}" for k in sorted(counts)) or "no comparison"
        if self.not_run:
            parts += f"; stopped after a timeout, {self.not_run} point(s) not run"
        verdict = "OK" if self.ok else "FAILED"
        return f"{self.statement_id} [{self.form}] vs implementation ({self.backend}, rtol={self.rtol:g}): {verdict}: {parts}"

    def table(self, only_failures: bool = True, limit: int = 20) -> str:
        """A plain-text table of the (failing) points."""
        rows = [r for r in self.results if r.disagrees or not only_failures][:limit]
        if not rows:
            return ""
        header = ("#", "status", "rel. error", "certified", "got", "params")
        body = [
            (str(r.index), r.status, f"{r.relative_error:.3g}", r.reference, _short(r.shown), _params(r.params) + (f"  [{r.detail}]" if r.detail else ""))
            for r in rows
        ]
        widths = [max(len(row[k]) for row in [header, *body]) for k in range(len(header) - 1)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + row[-1] for row in [header, *body]]
        return "\n".join(lines)

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "index": r.index,
                    "status": r.status,
                    "relative_error": r.relative_error,
                    "certified": r.reference,
                    "got": r.got,
                    **{k: v for k, v in r.params.items()},
                }
                for r in self.results
            ]
        )

    def to_json(self) -> dict[str, object]:
        """Strict JSON (an infinite relative error is ``null``)."""
        return {
            "id": self.statement_id,
            "form": self.form,
            "rtol": self.rtol,
            "backend": self.backend,
            "ok": self.ok,
            "points": len(self.results),
            "not_run": self.not_run,
            "failures": [
                {
                    "index": r.index,
                    "status": r.status,
                    "relative_error": r.relative_error if math.isfinite(r.relative_error) else None,
                    "certified": r.reference,
                    "got": r.shown,
                    "params": r.params,
                    "detail": r.detail,
                }
                for r in self.failures
            ],
        }


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "..."


def _params(params: Point) -> str:
    def show(v: object) -> str:
        return "[" + ",".join(map(str, v)) + "]" if isinstance(v, list) else str(v)

    return " ".join(f"{k}={show(v)}" for k, v in params.items())


def _arguments(statement: Statement, index: int, point: Point, backend: str, dps: int) -> dict[str, object]:
    def convert(name: str, text: str) -> object:
        value = to_fraction(name, text)
        if statement.parameter(name).domain.integer:
            return int(value)
        if backend == "float":
            if abs(value) > sys.float_info.max:
                raise ValueError(f"point {index}: {name}={short_decimal(value)} is beyond float64; use backend='mpmath'")
            return float(value)
        with mpmath.workdps(dps):
            return mpmath.mpf(value.numerator) / value.denominator

    return {name: [convert(name, v) for v in value] if isinstance(value, list) else convert(name, value) for name, value in point.items()}


# ------------------------------------------------------------------ in the worker process
def _call(implementation: Callable[..., object], backend: str, dps: int, arguments: dict[str, object]) -> tuple[str, object, str]:
    """Call the implementation; its value as ``(kind, number, shown)`` of plain types.

    ``kind`` is ``int``, ``float``, ``fraction`` (a ``(p, q)`` pair), ``mpf`` (its raw
    ``(sign, mantissa, exponent)``) or ``invalid`` (``shown`` then says why). A non-finite
    value of any type is a float ``inf``, ``-inf`` or ``nan``.
    """
    if backend == "mpmath":  # the user's mpmath code works at mpmath's (restored) working precision
        with mpmath.workdps(dps):
            value = implementation(**arguments)
    else:
        value = implementation(**arguments)
    return _plain(value)


def _plain(value: object) -> tuple[str, object, str]:
    if isinstance(value, bool):
        return "invalid", None, "returned bool: a boolean is not a number"
    if isinstance(value, int):
        return "int", int(value), short_decimal(Fraction(value))
    if isinstance(value, Fraction):
        return "fraction", (value.numerator, value.denominator), short_decimal(value)
    raw = getattr(value, "_mpf_", None)  # an mpmath real of any context
    if isinstance(raw, tuple):
        sign, mantissa, exponent, _ = raw
        if not mantissa and exponent:  # inf, -inf or nan
            special = math.inf if raw == finf else -math.inf if raw == fninf else math.nan
            return "float", special, repr(special)
        return "mpf", (int(sign), int(mantissa), int(exponent)), to_nstr(raw, 17)
    if isinstance(value, (str, bytes, complex)) or value is None:
        return "invalid", None, f"returned {type(value).__name__}: not a real number"
    try:
        as_float = float(value)  # type: ignore[arg-type]  # numpy scalars, torch scalars ...
    except (TypeError, ValueError, OverflowError) as error:
        return "invalid", None, f"returned {type(value).__name__}: {error}"
    return "float", as_float, repr(as_float)


# ------------------------------------------------------------------ in the harness
def _as_ball(kind: str, number: object) -> arb | None:
    """The exact value the implementation returned (an Arb number), None if not finite."""
    if kind == "int":
        return arb(fmpz(number))  # type: ignore[arg-type]
    if kind == "fraction":
        return arb(fmpq(*number))  # type: ignore[misc]
    if kind == "mpf":
        return to_ball(number)  # type: ignore[arg-type]
    return arb(number) if math.isfinite(number) else None  # type: ignore[arg-type]


def _returned(kind: str, number: object) -> object:
    """The returned number as an int, float, Fraction or (exact) mpf, for the report."""
    if kind == "fraction":
        return Fraction(*number)  # type: ignore[misc]
    if kind == "mpf":
        sign, mantissa, exponent = number  # type: ignore[misc]
        return mpmath.mp.make_mpf(from_man_exp(-mantissa if sign else mantissa, exponent))
    return number


def _relative_distance(got: arb, lower: arb, upper: arb) -> tuple[float, str]:
    """Distance of ``got`` outside ``[lower, upper]``, relative to the enclosure's size."""
    with ctx.workprec(128):
        if got < lower:
            side, distance = "below", lower - got
        elif got > upper:
            side, distance = "above", got - upper
        else:
            return 0.0, "agrees"
        scale = max(abs(lower), abs(upper), key=lambda x: float(x.mid()))
        if scale.is_zero():
            return math.inf, side
        return float((distance / scale).mid()), side


def _compare(index: int, point: Point, label: str, lower: arb, upper: arb, answer: tuple[str, object, str], rtol: float, backend: str) -> PointResult:
    """Classify one returned value against the certified enclosure ``[lower, upper]``."""
    kind, number, shown = answer
    if kind == "invalid":
        return PointResult(index, point, label, None, math.inf, "error", shown, shown="")
    value, number = _as_ball(kind, number), _returned(kind, number)
    if value is None:  # inf of the right sign is all a float can say about a value beyond its range
        beyond = backend == "float" and abs(number) == math.inf and bool(abs(lower) > FLOAT_MAX) and bool(lower > 0) == (number > 0)  # type: ignore[arg-type, operator]
        if beyond:
            return PointResult(index, point, label, number, 0.0, "out_of_range", shown=shown)
        return PointResult(index, point, label, number, math.inf, "non-finite", shown=shown)
    error, side = _relative_distance(value, lower, upper)
    if side != "agrees" and error <= rtol:
        side = "agrees"
    return PointResult(index, point, label, number, error, side, shown=shown)


def _reference(statement: Statement, form: str, point: Point, dps: int) -> tuple[str, arb, arb]:
    reference = evaluate(statement, point, dps=dps, form=form)
    return reference.digits(max_digits=17), reference.enclosure.lower, reference.enclosure.upper


def _check_options(points: object, rtol: object, backend: object, dps: object, seed: object, timeout: object, extra: int) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r}: must be one of {', '.join(BACKENDS)}")
    for name, value in (("points", points), ("dps", dps), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name}={value!r}: must be an integer")
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ValueError(f"rtol={rtol!r}: must be a number with 0 < rtol < 1")
    if not (isinstance(timeout, (int, float)) and 0 < timeout < math.inf):
        raise ValueError(f"timeout={timeout!r}: must be a finite number of seconds > 0")
    if points < 0:  # type: ignore[operator]
        raise ValueError(f"points={points!r}: must be >= 0")
    if points == 0 and extra == 0:
        raise ValueError("points=0 and no extra_points: nothing would be compared (a regression test needs points >= 1)")
    if dps < 1:  # type: ignore[operator]
        raise ValueError(f"dps={dps!r}: must be >= 1")
    if seed < 0:  # type: ignore[operator]
        raise ValueError(f"seed={seed!r}: must be >= 0")


def regress(
    statement_id: str,
    implementation: Callable[..., object],
    *,
    form: str | None = None,
    points: int = 200,
    rtol: float = DEFAULT_RTOL,
    backend: str = "float",
    dps: int = 30,
    seed: int = 0,
    extra_points: Sequence[Point] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> RegressionReport:
    """Compare ``implementation`` with the certified values of a statement's form.

    ``extra_points`` are checked in addition to ``points`` generated ones; each call of the
    implementation has ``timeout`` seconds (see the module's docstring).
    """
    _check_options(points, rtol, backend, dps, seed, timeout, len(extra_points))
    statement = registry.get(statement_id)
    chosen = statement.form(form).name
    sample = [*extra_points, *generate_points(statement, points, form=chosen, seed=seed)]
    results: list[PointResult] = []
    with Worker(partial(_call, implementation, backend, dps), timeout) as worker:
        for index, point in enumerate(sample):
            label, lower, upper = _reference(statement, chosen, point, dps)
            outcome = worker.call(_arguments(statement, index, point, backend, dps))
            if outcome.kind == RETURNED:
                results.append(_compare(index, point, label, lower, upper, outcome.value, rtol, backend))  # type: ignore[arg-type]
                continue
            results.append(PointResult(index, point, label, None, math.inf, "timeout" if outcome.kind == TIMEOUT else "error", outcome.detail))
            if outcome.kind == TIMEOUT:
                return RegressionReport(statement.id, chosen, rtol, backend, tuple(results), not_run=len(sample) - index - 1)
    return RegressionReport(statement.id, chosen, rtol, backend, tuple(results))

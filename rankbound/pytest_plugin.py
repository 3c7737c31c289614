"""pytest plugin (registered through the ``pytest11`` entry point): the ``bound_regression`` fixture.

Users regression-test their own implementation of a bound against the certified values
of a catalogue statement::

    def my_lemma_s1(m, n, p, R, eps):
        ...

    def test_my_lemma_s1(bound_regression):
        bound_regression("schatten_ball.lemma_s1", my_lemma_s1, points=100)

The fixture fails the test with a table of every disagreeing point; an implementation
that raises (``SystemExit`` included), returns NaN or a non-number, or runs past the
per-call ``timeout`` (10 s by default) fails it too, and so does a run that compares
nothing (``points=0``). The implementation runs in a worker process.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def bound_regression() -> Callable[..., object]:
    """``check(statement_id, implementation, **options)``: assert the implementation agrees.

    Options are those of :func:`numerics.regression.regress` (``form``, ``points``,
    ``rtol``, ``backend``, ``dps``, ``seed``, ``extra_points``, ``timeout``). Returns the report.
    """
    from numerics.regression import regress

    def check(statement_id: str, implementation: Callable[..., object], **options: object):
        report = regress(statement_id, implementation, **options)  # type: ignore[arg-type]
        if not report.ok:
            pytest.fail(f"{report.summary()}\n{report.table()}", pytrace=False)
        return report

    return check

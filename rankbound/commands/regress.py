"""``rankbound regress``: regression-test a user's bound implementation from the command line.

The user's module is imported in this process, under guard: whatever its import does
(raises any exception, ``SystemExit`` included, or runs Python code for longer than
``IMPORT_SECONDS``) is reported as a usage error instead of ending or hanging the
command. A real Ctrl-C still interrupts. The calls themselves run in a worker process
(:mod:`numerics.isolated`).
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from rankbound.commands.errors import InputError, user_errors

#: the user's module must import within this many seconds (importing torch alone can take several)
IMPORT_SECONDS = 120.0


class _ImportTimeout(BaseException):
    """The user's module took longer than the deadline to import."""


@contextmanager
def _guarded(seconds: float) -> Iterator[list[bool]]:
    """Track real Ctrl-C (the list gets an entry) and interrupt Python code after ``seconds``.

    Signal handlers can be set only in the main thread; elsewhere nothing is tracked and
    every ``KeyboardInterrupt`` counts as real.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield [True]
        return
    interrupted: list[bool] = []

    def on_interrupt(signum: int, frame: object) -> None:
        interrupted.append(True)
        raise KeyboardInterrupt

    def on_alarm(signum: int, frame: object) -> None:
        raise _ImportTimeout

    previous = signal.signal(signal.SIGINT, on_interrupt), signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield interrupted
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGALRM, previous[1])


def load_callable(target: str, timeout: float = IMPORT_SECONDS) -> Callable[..., object]:
    """``MODULE:FUNCTION``, importable from the current directory or PYTHONPATH, imported
    within ``timeout`` seconds; any failure of the import is an :class:`InputError`."""
    from numerics.isolated import describe_exception

    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise InputError(f"{target!r}: expected MODULE:FUNCTION (e.g. mybounds:lemma_s1)")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    with _guarded(timeout) as interrupted:
        try:
            module = importlib.import_module(module_name)
            function = getattr(module, attribute, None)
        except _ImportTimeout:
            raise InputError(f"cannot import {module_name!r}: still running after {timeout:g} s") from None
        except BaseException as error:  # noqa: BLE001 - the user's module may raise anything, SystemExit included
            if isinstance(error, KeyboardInterrupt) and interrupted:
                raise
            raise InputError(f"cannot import {module_name!r}: {describe_exception(error)}") from None
    if not callable(function):
        raise InputError(f"{module_name!r} has no callable {attribute!r}")
    return function


@click.command("regress")
@click.argument("statement_id")
@click.argument("target", metavar="MODULE:FUNCTION")
@click.option("--points", default=200, show_default=True, type=click.IntRange(min=1), help="Generated parameter points.")
@click.option("--rtol", default=1e-9, show_default=True, type=float, help="Allowed relative distance outside the certified enclosure.")
@click.option("--variant", "form", default=None, help="The statement's form (default: its first).")
@click.option("--backend", type=click.Choice(["float", "mpmath"]), default="float", show_default=True, help="Type of the values passed to the implementation.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the point generator.")
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True, max=1e6),
    help="Seconds allowed for each call; a call past it is reported and stops the run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def regress_command(statement_id: str, target: str, points: int, rtol: float, form: str | None, backend: str, seed: int, timeout: float, as_json: bool) -> None:
    """Compare MODULE:FUNCTION with the certified values of STATEMENT_ID.

    The function is called with the statement's parameter names as keywords, in a worker
    process. Exit 0 when every point agrees, 1 when any disagrees, raises, returns a
    non-number or times out (the table says where), 2 on usage errors.
    """
    from numerics.regression import regress

    if not 0 < rtol < 1:
        raise InputError(f"--rtol={rtol}: must be a number with 0 < rtol < 1")
    implementation = load_callable(target)
    with user_errors():
        report = regress(statement_id, implementation, form=form, points=points, rtol=rtol, backend=backend, seed=seed, timeout=timeout)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, allow_nan=False))
    else:
        click.echo(report.summary())
        table = report.table()
        if table:
            click.echo(table)
    sys.exit(0 if report.ok else 1)

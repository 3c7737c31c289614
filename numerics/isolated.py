"""Calls of untrusted code in a worker process, each with a deadline.

The regression harness calls a user's implementation hundreds of times. Run in the
harness's own process, one call could end it (``sys.exit(0)``, ``os._exit``, a crash),
hang it (an endless loop) or write into its output. :class:`Worker` runs each call in a
child process instead: whatever the call does (returns, raises any ``BaseException``,
``SystemExit`` and ``KeyboardInterrupt`` included, ends its process, or runs past the
deadline) becomes an :class:`Outcome`, and the harness goes on.

The child is forked from the caller where the platform can fork (so the function may be
a closure or a lambda), spawned otherwise (the function must then be picklable). It
ignores SIGINT, so a real Ctrl-C interrupts the harness rather than one call (the
harness then ends the child): a ``KeyboardInterrupt`` seen in the child was raised by
the called code itself. The child's standard output goes to standard error, so a
``print`` in the called code cannot corrupt the harness's output (its JSON, say). A
child whose parent has gone exits within a second.

The function receives one picklable request and returns a picklable answer; callers
wrap the code under test in such a function (see :mod:`numerics.regression`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

#: how often an orphaned child checks that its parent still exists, in seconds
ORPHAN_CHECK_SECONDS = 1.0

RETURNED, RAISED, TIMEOUT, ENDED = "returned", "raised", "timeout", "ended"


@dataclass(frozen=True)
class Outcome:
    """What one call did: ``kind`` is ``returned`` (``value`` holds the result),
    ``raised`` (``detail`` names the exception), ``timeout`` or ``ended`` (the call
    ended the worker process; ``detail`` gives its exit status)."""

    kind: str
    value: object = None
    detail: str = ""


def describe_exception(error: BaseException, limit: int = 300) -> str:
    """``"TypeName: message"``, clipped, even for an exception whose ``str`` fails."""
    try:
        message = str(error)
    except Exception:  # a hostile __str__, or an integer beyond the str() digit limit
        message = "<message cannot be shown>"
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _exit_when_orphaned(parent: int) -> None:
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _serve(function: Callable[..., object], connection, parent: int) -> None:
    """The child's loop: receive a request, send back a (kind, value, detail) triple."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.dup2(2, 1)
    except OSError:  # no standard streams at all: nothing to protect
        pass
    sys.stdout = sys.stderr
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            break
        try:
            reply = (RETURNED, function(request), "")
        except BaseException as error:  # noqa: BLE001 - the called code may raise anything
            reply = (RAISED, None, describe_exception(error))
        try:
            connection.send(reply)
        except Exception as error:  # the returned object cannot be pickled
            connection.send((RAISED, None, f"its result cannot be sent back: {describe_exception(error)}"))
    os._exit(0)


class Worker:
    """A child process that runs ``function(request)`` for :meth:`call`; use it as a
    context manager (the child is ended on exit, also on an exception or Ctrl-C)."""

    def __init__(self, function: Callable[..., object], timeout: float) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout={timeout!r}: must be > 0 seconds")
        self.function = function
        self.timeout = timeout
        self._context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self._process = None
        self._connection = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    def _start(self) -> None:
        for stream in (sys.stdout, sys.stderr):  # a forked child must not inherit unwritten output
            stream.flush()
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(self.function, theirs, os.getpid()), daemon=True)
        self._process.start()
        theirs.close()
        self._connection = ours

    def call(self, request: object) -> Outcome:
        """Run one call; after a ``timeout`` or ``ended`` outcome the next call starts a new child."""
        if self._process is None:
            self._start()
        try:
            self._connection.send(request)
            ready = self._connection.poll(self.timeout)
            if not ready:
                self.close()
                return Outcome(TIMEOUT, detail=f"no answer within {self.timeout:g} s")
            kind, value, detail = self._connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._process.join(5)
            status = self._process.exitcode
            self.close()
            return Outcome(ENDED, detail=f"the call ended the worker process (exit status {status})")
        return Outcome(kind, value, detail)

    def close(self) -> None:
        """End the child (if any) at once."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._connection.close()
            self._process = self._connection = None

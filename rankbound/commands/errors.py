"""Error handling shared by the sub-commands: usage errors exit 2 with one line.

An input the certified evaluator cannot handle within its stated limits (digits of the
values, terms of a sum, working precision) is a usage error too; a disagreement between
the two evaluation engines is a bug of the suite and exits 1, also with one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click


class InputError(click.ClickException):
    """Bad user input (unknown id, malformed or out-of-domain parameter): exit status 2."""

    exit_code = 2


class InternalError(click.ClickException):
    """A failed self-check of the suite (the engines disagree): exit status 1, one line."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} (a bug in rankbound: please report it)")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's input errors into :class:`InputError` (one line, status 2)."""
    from numerics.evaluation import CertificationError, EngineDisagreement, ParameterError

    try:
        yield
    except KeyError as error:  # unknown statement id: the message carries suggestions
        raise InputError(str(error.args[0]) if error.args else str(error)) from None
    except (ParameterError, CertificationError, LookupError) as error:
        raise InputError(str(error)) from None
    except EngineDisagreement as error:
        raise InternalError(str(error)) from None

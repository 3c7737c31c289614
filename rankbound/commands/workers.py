"""``--jobs``, ``--scheduler``, ``--checkpoint-dir``: where the commands that may train run their groups.

:func:`worker_options` adds the three options to a command; inside it, :func:`training_options`
gives the keyword arguments for :func:`numerics.training.run_preset` or
:class:`checks.context.CheckContext`: ``workers`` (a :class:`numerics.training.parallel.Workers`,
closed when the command ends, so a ``--scheduler local`` cluster stops with it) and
``checkpoint_dir``. Failures of the workers become one ``Error:`` line: a bad value or an
unreachable scheduler exits 2; a sweep the workers could not finish (the scheduler went away,
a group killed its workers) exits 1, saying how many groups are stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from rankbound.commands.errors import InputError

R = TypeVar("R")
META_KEY = "rankbound.training_options"


def worker_options(command: Callable[..., R]) -> Callable[..., R]:
    """Add ``--jobs``, ``--scheduler`` and ``--checkpoint-dir`` to a command (read them with :func:`training_options`)."""

    @click.option(
        "--checkpoint-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where the machine training a group keeps its checkpoint (default: the results store); on a cluster, a path every worker can write.",
    )
    @click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS|local",
        help="Train groups on the workers of this dask.distributed scheduler (e.g. tcp://host:8786); 'local' starts a LocalCluster here.",
    )
    @click.option(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="Train groups in N local processes (-1: one per core); with --scheduler local, the number of worker processes.",
    )
    @functools.wraps(command)
    def with_workers(*args: Any, jobs: int | None, scheduler: str | None, checkpoint_dir: Path | None, **kwargs: Any) -> R:
        from numerics.training.parallel import SchedulerUnreachable, Workers, WorkersError

        try:
            workers = Workers(jobs=jobs, scheduler=scheduler)
        except ValueError as error:
            raise InputError(str(error)) from None
        context = click.get_current_context()
        context.meta[META_KEY] = {"workers": context.with_resource(workers), "checkpoint_dir": checkpoint_dir}
        try:
            return command(*args, **kwargs)
        except SchedulerUnreachable as error:
            raise InputError(str(error)) from None
        except WorkersError as error:
            raise click.ClickException(str(error)) from None

    return with_workers


def training_options() -> dict[str, Any]:
    """``{"workers": Workers, "checkpoint_dir": Path | None}`` of the running command (see :func:`worker_options`)."""
    return dict(click.get_current_context().meta[META_KEY])

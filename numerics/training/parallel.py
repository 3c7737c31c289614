"""Where the groups of a sweep train: this process, local worker processes, or a Dask cluster.

:class:`Workers` runs one function over a list of independent jobs and yields each job with its
result as soon as it is done, so that the caller can store every finished result before the
next one arrives::

    with Workers(scheduler="local", jobs=2) as workers:      # a LocalCluster of 2 processes
        for job, result in workers.run(train, jobs):
            store(job, result)

* ``Workers()``: in this process, one job after the other (or the active
  ``joblib.parallel_config`` backend, when one is set);
* ``Workers(jobs=N)``: N local worker processes (joblib's loky backend; -1: one per core);
* ``Workers(scheduler="tcp://host:8786")``: the workers of a running ``dask.distributed``
  scheduler; ``Workers(scheduler="local", jobs=N)`` starts a ``LocalCluster`` of N
  single-threaded worker processes on this machine (default: one per usable core);
* ``Workers(client=client)``: an existing ``dask.distributed.Client`` (not closed here).

A Dask client is connected (a LocalCluster started) by :meth:`Workers.start` or the first
:meth:`Workers.run` that has work, not before. Results travel back to this process, so workers need no shared
filesystem. A worker that dies while running a job (killed, out of memory) is replaced and
the scheduler gives its job to another worker; when more than
``distributed.scheduler.allowed-failures`` (default 3) workers died running it, the job fails
with :class:`WorkersError`. Losing the scheduler raises
:class:`SchedulerLost` at once; the results yielded before remain with the caller.

Thread budget (:func:`threads_per_job`): a job running in a worker process limits torch's
intra-op threads and the BLAS / OpenMP pools (threadpoolctl) to

.. math::  t = \\max\\bigl(1, \\lfloor c / s \\rfloor\\bigr),

with c the cores usable on its machine (``joblib.cpu_count()``: affinity and cgroup quota) and
s the job slots on that machine: N for ``jobs=N``, and on a Dask cluster the sum of the
``nthreads`` of the workers that share the job's host, as the scheduler lists them when
:meth:`Workers.run` starts (a worker that joins later counts its own ``nthreads``). So N
workers on one machine use at most c threads in all. Jobs run in this process keep torch's
settings. Torch splits large float reductions across its threads, so a result computed with
another number of threads can differ in the last bits; equal thread counts give equal bits.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import joblib
import torch
from threadpoolctl import threadpool_limits

J = TypeVar("J")
R = TypeVar("R")

LOCAL = "local"
#: seconds to wait for a scheduler to answer before giving up
CONNECT_TIMEOUT_S = 20
#: seconds to wait for a client or LocalCluster to shut down
CLOSE_TIMEOUT_S = 20
INSTALL_HINT = "install the Dask extra: pip install 'rankbound[dask]'"


class WorkersError(RuntimeError):
    """The workers could not finish the jobs (a job killed its workers, the scheduler went away, ...)."""


class SchedulerUnreachable(WorkersError):
    """No Dask scheduler answered at the given address (or Dask is not installed)."""


class SchedulerLost(WorkersError):
    """The connection to the Dask scheduler was lost while jobs were running."""


def threads_per_job(cores: int, slots: int) -> int:
    """Threads for one job: the usable cores shared evenly by the job slots of the machine, at least 1."""
    return max(1, cores // max(1, slots))


@contextmanager
def thread_budget(threads: int) -> Iterator[None]:
    """Limit torch's intra-op threads and the BLAS / OpenMP pools to ``threads``; restore them after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)


def _in_local_process(function: Callable[[J], R], job: J, index: int, slots: int) -> tuple[int, R]:
    """Job ``index`` in a joblib worker: ``function(job)`` under the thread budget of ``slots`` jobs per machine."""
    with thread_budget(threads_per_job(joblib.cpu_count(), slots)):
        return index, function(job)


def _on_dask_worker(function: Callable[[J], R], job: J, slots_by_host: dict[str, int]) -> R:
    """A job on a Dask worker: ``function(job)`` under the thread budget of its host's job slots."""
    from distributed import get_worker
    from distributed.comm import get_address_host

    worker = get_worker()
    slots = slots_by_host.get(get_address_host(worker.address), worker.state.nthreads)
    with thread_budget(threads_per_job(joblib.cpu_count(), slots)):
        return function(job)


def _slots_by_host(client: Any) -> dict[str, int]:
    """The cluster's workers' ``nthreads`` summed per host."""
    from distributed.comm import get_address_host

    slots: dict[str, int] = {}
    for address, nthreads in client.nthreads().items():
        host = get_address_host(address)
        slots[host] = slots.get(host, 0) + nthreads
    return slots


class Workers:
    """Runs independent jobs here, in local processes or on a Dask cluster (see the module docstring)."""

    def __init__(self, jobs: int | None = None, scheduler: str | None = None, client: Any = None) -> None:
        if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs == 0 or jobs < -1):
            raise ValueError(f"jobs={jobs!r} violates jobs >= 1 or jobs == -1 (one per core)")
        if client is not None and (scheduler is not None or jobs is not None):
            raise ValueError("client= excludes scheduler= and jobs=")
        if scheduler is not None and scheduler != LOCAL and jobs is not None:
            raise ValueError(f"jobs={jobs} violates: jobs sizes a local cluster (scheduler='local'), not the cluster at {scheduler}")
        if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
            raise ValueError(f"scheduler={scheduler!r} violates: 'local' or a scheduler address such as tcp://host:8786")
        self.jobs = jobs
        self.scheduler = scheduler
        self._client = client
        self._owned: list[Any] = []  # what this object started, closed by close()

    @property
    def distributed(self) -> bool:
        """Whether jobs go to a Dask cluster."""
        return self.scheduler is not None or self._client is not None

    @property
    def in_process(self) -> bool:
        """Whether jobs run in this process, one after the other."""
        return not self.distributed and joblib.effective_n_jobs(self.jobs) == 1

    def describe(self) -> str:
        """Where the jobs run, in words."""
        if self.scheduler == LOCAL:
            return f"a local Dask cluster of {self._local_workers()} worker processes"
        if self.scheduler is not None:
            return f"the Dask cluster at {self.scheduler}"
        if self._client is not None:
            return f"the Dask cluster at {self._address(self._client)}"
        return "this process" if self.in_process else f"{joblib.effective_n_jobs(self.jobs)} local processes"

    def run(self, function: Callable[[J], R], jobs: Sequence[J]) -> Iterator[tuple[J, R]]:
        """``(job, function(job))`` for every job, in the order they finish.

        ``function`` and the jobs must be picklable (module-level functions, plain data) unless
        the jobs run in this process. An exception of a job is raised here (Dask re-raises the
        original type); the jobs not yet finished are then cancelled.
        """
        if not jobs:
            return
        if self.distributed:
            yield from self._run_on_dask(function, jobs)
        elif self.in_process:
            for job in jobs:
                yield job, function(job)
        else:
            slots = joblib.effective_n_jobs(self.jobs)
            tasks = (joblib.delayed(_in_local_process)(function, job, index, slots) for index, job in enumerate(jobs))
            for index, result in joblib.Parallel(n_jobs=self.jobs, return_as="generator_unordered")(tasks):
                yield jobs[index], result

    def _run_on_dask(self, function: Callable[[J], R], jobs: Sequence[J]) -> Iterator[tuple[J, R]]:
        from distributed import KilledWorker, as_completed

        client = self.client()
        slots = _slots_by_host(client)
        batch = uuid.uuid4().hex[:8]
        pending = {
            client.submit(_on_dask_worker, function, job, slots, key=f"rankbound-job-{batch}-{index}", pure=False): job
            for index, job in enumerate(jobs)
        }
        try:
            for future in as_completed(list(pending)):
                job = pending.pop(future)
                try:
                    result = future.result()
                except KilledWorker as error:
                    raise WorkersError(
                        f"the workers running a job died more than distributed.scheduler.allowed-failures times ({error}); "
                        "running out of memory is the usual cause: give workers more memory or train smaller groups"
                    ) from None
                finally:
                    future.release()  # the result leaves the worker's memory
                yield job, result
        except Exception as error:
            if _connection_lost(client, error):
                reason = getattr(error, "reason", None) or type(error).__name__
                raise SchedulerLost(f"lost the Dask scheduler at {self._address(client)} ({reason})") from None
            raise
        finally:
            if pending and client.status == "running":
                client.cancel(list(pending))

    def _local_workers(self) -> int:
        return self.jobs if self.jobs not in (None, -1) else joblib.cpu_count()

    def broadcast(self, function: Callable[..., object], *args: object) -> None:
        """Call ``function(*args)`` once in every Dask worker; nothing otherwise (local workers share this machine)."""
        if self.distributed:
            self.client().run(function, *args, on_error="ignore")

    def start(self) -> None:
        """Connect to the scheduler (start the LocalCluster) now rather than on the first job; nothing without Dask."""
        if self.distributed:
            self.client()

    def client(self) -> Any:
        """The Dask client, connected (or its LocalCluster started) on first use."""
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SchedulerUnreachable(f"scheduler={self.scheduler!r} needs dask.distributed: {INSTALL_HINT}") from None
        if self.scheduler == LOCAL:
            cluster = LocalCluster(
                n_workers=self._local_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._owned.append(cluster)
            self._client = Client(cluster)
        else:
            try:
                self._client = Client(self.scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as error:
                raise SchedulerUnreachable(
                    f"scheduler={self.scheduler!r}: no Dask scheduler answered within {CONNECT_TIMEOUT_S} s ({error})"
                ) from None
        self._owned.insert(0, self._client)
        return self._client

    @staticmethod
    def _address(client: Any) -> str:
        return str(getattr(client.scheduler, "address", "?"))

    def close(self) -> None:
        """Close the client and the LocalCluster this object started (not a client it was given)."""
        with _quiet_dask_logs():
            for resource in self._owned:
                resource.close(timeout=CLOSE_TIMEOUT_S)
        if self._owned:
            self._client = None
        self._owned.clear()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connection_lost(client: Any, error: BaseException) -> bool:
    """Whether ``error`` means the client lost its scheduler (rather than a job failing)."""
    from concurrent.futures import CancelledError

    from distributed.comm import CommClosedError

    if isinstance(error, CommClosedError):
        return True
    if isinstance(error, (CancelledError, OSError, TimeoutError)):
        return getattr(error, "reason", None) == "scheduler-connection-lost" or client.status != "running"
    return False


@contextmanager
def _quiet_dask_logs() -> Iterator[None]:
    """Silence Dask's reconnect and shutdown noise (tracebacks of cancelled reconnects) while closing."""
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in ("distributed", "tornado", "asyncio")]
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio", *names)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)

"""Train the runs of an experiment through the results store: reuse, group, resume, record.

:func:`run_experiment` / :func:`run_preset` are the entry points of the checks and reports layers::

    from numerics.training import load_preset, run_experiment
    runs = run_experiment("chen_california", load_preset("quick"), "results")
    for run in runs:
        run.spec.mu_v, run.status, run.history["train_mse"][-1], run.weights["V"]

For every run requested it

1. computes the run key, :func:`run_key` (content hash of the canonical run spec salted with
   :data:`~numerics.training.specs.TRAINING_CODE_VERSION`), and reuses a finished entry of the
   store when its checksum verifies and it holds a run record;
2. puts the missing runs that share a group signature into groups of at most
   ``group_size`` models, each trained as one batched tensor program; groups are independent
   jobs for :class:`~numerics.training.parallel.Workers`: this process, local processes, or
   the workers of a Dask cluster;
3. the machine that trains a group checkpoints it atomically every ``checkpoint_every_s``
   seconds (and/or ``checkpoint_every_epochs`` epochs) under ``checkpoint_dir`` and resumes
   from that checkpoint when the group is trained again after an interruption; the resumed run
   is bit-identical to an uninterrupted one;
4. the group's records travel back to this process, which checks them (same training code
   version, same configs), stores every finished or diverged model as its own entry (atomic,
   checksummed), then drops the group checkpoint.
"""

from __future__ import annotations

import functools
import os
import platform
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from numerics.data import Split, load_split
from numerics.store import CHECKPOINTS, RUNS, CorruptEntryWarning, ResultStore, content_key
from numerics.training.config import Preset
from numerics.training.decay import DecayResolution, run_decay_resolutions
from numerics.training.groups import PLANNERS
from numerics.training.loop import CHECKPOINT_LAYOUT, train_group
from numerics.training.parallel import Workers, WorkersError
from numerics.training.specs import TRAINING_CODE_VERSION, RunSpec

DEFAULT_CHECKPOINT_EVERY_S = 120.0

#: the layout of a stored run record (see :data:`numerics.store.Layout`)
RUN_RECORD_LAYOUT = {
    "config": dict,
    "status": str,
    "history": {str: np.ndarray},
    "weights": {str: np.ndarray},
    "initial_weights": {str: np.ndarray},
    "final_epoch_batches": np.ndarray,
    "metadata": dict,
}


@dataclass(frozen=True)
class RunResult:
    """One trained model as the checks and reports consume it.

    key: results-store key. experiment: the experiment it was requested for.
    spec: its run spec (``spec.mu_v``, ``spec.width``, ``spec.data``...).
    status: ``finished`` or ``diverged`` (a non-finite loss stopped it; see ``metadata["epochs_run"]``).
    history: arrays; per epoch ``epoch_loss`` (mean batch loss) and ``epoch_lr``; at the
        evaluation epochs ``eval_epoch`` (0 is the initialisation) and ``train_<metric>`` /
        ``test_<metric>`` (``mse`` [+ ``accuracy``] for chen, ``loss`` and ``accuracy`` otherwise).
    weights, initial_weights: named arrays (chen: ``a``, ``V``, ``b``; ledent: ``A1``..``AL``
        [+ biases ``c1``..]; oymak: ``W``, ``V``), in the run's dtype.
    final_epoch_batches: (batches, B) row indices into the training subset used in the last
        epoch, in order (the gradient census of Chen et al.'s Fig. 3 needs them).
    metadata: data provenance and transforms, model / init / loss / update / batch rules,
        dtype, device, torch version, group and timing.
    reused: whether it came from the store rather than from this call's training.
    """

    key: str
    experiment: str
    spec: RunSpec
    status: str
    history: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    initial_weights: dict[str, np.ndarray]
    final_epoch_batches: np.ndarray
    metadata: dict[str, Any]
    reused: bool

    @property
    def kind(self) -> str:
        return self.spec.KIND

    @property
    def decay_resolutions(self) -> list[DecayResolution]:
        """Each decay rate of the run against its dtype's resolution (:mod:`numerics.training.decay`)."""
        return [DecayResolution(**entry) for entry in self.metadata["decay_resolution"]]

    @property
    def inert_decays(self) -> list[DecayResolution]:
        """The decays below the resolution of the weights at the initial learning rate (never reliably applied)."""
        return [resolution for resolution in self.decay_resolutions if resolution.inert]

    def split(self, data_dir: str | os.PathLike[str] | None = None) -> Split:
        """The data split the run was trained on (reloaded; deterministic from ``spec.data``)."""
        return load_split(self.spec.data, data_dir)


def run_key(spec: RunSpec) -> str:
    """Results-store key of a run: content hash of its canonical spec and the training code version."""
    return content_key({"code": TRAINING_CODE_VERSION, "run": spec.canonical()})


def plan_groups(specs: Sequence[RunSpec], group_size: int) -> list[list[RunSpec]]:
    """Runs with one group signature, in order, cut into groups of at most ``group_size``."""
    by_signature: dict[str, list[RunSpec]] = defaultdict(list)
    for spec in specs:
        by_signature[spec.group_signature()].append(spec)
    return [members[start : start + group_size] for members in by_signature.values() for start in range(0, len(members), group_size)]


def _load_finished(store: ResultStore, spec: RunSpec, key: str) -> dict[str, Any] | None:
    record = store.load(RUNS, key, RUN_RECORD_LAYOUT)
    if record is not None and record.get("config") != spec.canonical():
        store.discard(RUNS, key)
        warnings.warn(f"results store entry {key} holds another run's config; recomputing", CorruptEntryWarning, stacklevel=3)
        return None
    return record


@dataclass(frozen=True)
class GroupJob:
    """One group of runs to train, as sent to a worker: plain data, picklable.

    ``checkpoint_root``: the results-store root under which the worker keeps the group's
    checkpoint (``checkpoints/<group key>.entry``), as a path on the worker's machine.
    """

    specs: tuple[RunSpec, ...]
    label: str
    device: str
    data_dir: str | None
    download: bool
    checkpoint_root: str
    checkpoint_every_s: float | None
    checkpoint_every_epochs: int | None

    @property
    def keys(self) -> list[str]:
        return [run_key(spec) for spec in self.specs]

    @property
    def group_key(self) -> str:
        return content_key({"code": TRAINING_CODE_VERSION, "group": self.keys})


def _checkpoint_store(job: GroupJob) -> ResultStore:
    """The store of the group's checkpoint; raises :class:`WorkersError` when this machine cannot write it."""
    store = ResultStore(job.checkpoint_root)
    if job.checkpoint_every_s is None and job.checkpoint_every_epochs is None:
        return store
    directory = store.root / CHECKPOINTS
    try:
        directory.mkdir(parents=True, exist_ok=True)
        writable = os.access(directory, os.W_OK)
    except OSError as error:
        writable, reason = False, error.strerror or str(error)
    else:
        reason = "permission denied"
    if not writable:
        raise WorkersError(
            f"checkpoint_dir={str(store.root)!r}: group checkpoints cannot be written to {directory} on {platform.node()} "
            f"({reason}); give a directory that every worker can write"
        )
    return store


def _train_group(job: GroupJob, progress: bool = False, on_epoch: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Train one group (resuming from its checkpoint if any) and return its run records, in order.

    Runs wherever the group is sent: it reads the data and the checkpoint from this machine
    and writes nothing but the checkpoint; the caller stores the records and then drops the
    checkpoint, so a group lost on the way is resumed, not restarted.
    """
    if job.device.startswith("cuda") and not torch.cuda.is_available():
        raise WorkersError(f"device={job.device!r}: no CUDA device is available to torch on {platform.node()}")
    checkpoints = _checkpoint_store(job)
    specs, keys, group_key = list(job.specs), job.keys, job.group_key
    splits = [load_split(spec.data, job.data_dir, download=job.download) for spec in specs]
    plan = PLANNERS[specs[0].KIND](specs, splits, job.device)
    resume = checkpoints.load(CHECKPOINTS, group_key, CHECKPOINT_LAYOUT)
    resumed_from = resume["loop"]["epoch"] if resume is not None else 0
    bar = tqdm(total=plan.schedule.epochs, initial=resumed_from, desc=job.label, unit="epoch", disable=not progress, leave=False)

    def after_epoch(epochs_done: int) -> None:
        bar.update(epochs_done - bar.n)
        if on_epoch is not None:
            on_epoch(epochs_done)

    start = time.perf_counter()
    with bar:
        outcomes = train_group(
            plan.trainable,
            plan.schedule,
            resume=resume,
            checkpoint=lambda payload: checkpoints.save(CHECKPOINTS, group_key, payload),
            checkpoint_every_epochs=job.checkpoint_every_epochs,
            checkpoint_every_s=job.checkpoint_every_s,
            on_epoch=after_epoch,
        )
    wall = time.perf_counter() - start
    group = {"members": keys, "resumed_from_epoch": resumed_from, "wall_s": wall, "threads": torch.get_num_threads()}
    return [
        {
            "config": spec.canonical(),
            "status": outcome.status,
            "history": outcome.history,
            "weights": outcome.weights,
            "initial_weights": initial,
            "final_epoch_batches": outcome.final_epoch_batches,
            "metadata": {
                "data": split.metadata,
                **plan.description,
                "dtype": spec.dtype,
                "device": str(job.device),
                "torch": str(torch.__version__),
                "code_version": TRAINING_CODE_VERSION,
                "epochs_run": outcome.epochs_run,
                "decay_resolution": [resolution.to_json() for resolution in run_decay_resolutions(spec)],
                "group": group,
            },
        }
        for spec, split, initial, outcome in zip(specs, splits, plan.initial_weights, outcomes)
    ]


def _accept(job: GroupJob, records: list[dict[str, Any]]) -> None:
    """Refuse records that are not the job's runs or were trained by other training code."""
    for spec, record in zip(job.specs, records, strict=True):
        version = record["metadata"]["code_version"]
        if version != TRAINING_CODE_VERSION:
            raise WorkersError(
                f"a worker trained {job.label} with training code version {version}, this process has "
                f"{TRAINING_CODE_VERSION}: install the same rankbound on every worker"
            )
        if record["config"] != spec.canonical():
            raise WorkersError(f"a worker returned another run's record for {job.label}")


def _discard_checkpoints(root: str, group_keys: list[str]) -> None:
    """Drop the checkpoints of finished groups (run on every worker's machine)."""
    store = ResultStore(root)
    for key in group_keys:
        store.discard(CHECKPOINTS, key)


def _train_jobs(jobs: list[GroupJob], store: ResultStore, workers: Workers, progress: bool, on_epoch: Callable[[int], None] | None) -> dict[str, dict[str, Any]]:
    """Train the groups on ``workers``; store each run as its group comes back; the records by run key."""
    in_process = workers.in_process
    train = functools.partial(_train_group, progress=progress and in_process, on_epoch=on_epoch if in_process else None)
    trained: dict[str, dict[str, Any]] = {}
    finished: list[GroupJob] = []
    if jobs:
        workers.start()
    bar = tqdm(total=len(jobs), desc=f"groups on {workers.describe()}", unit="group", disable=not progress or in_process or not jobs, leave=False)
    try:
        with bar:
            for job, records in workers.run(train, jobs):
                _accept(job, records)
                for key, record in zip(job.keys, records):
                    store.save(RUNS, key, record)
                    trained[key] = record
                ResultStore(job.checkpoint_root).discard(CHECKPOINTS, job.group_key)
                finished.append(job)
                bar.update()
    except WorkersError as error:
        raise type(error)(
            f"{error}. {len(finished)} of {len(jobs)} groups finished and are stored in {store.root}; "
            "run the same command again to train the rest (interrupted groups resume from their checkpoints)"
        ) from None
    if workers.distributed and finished:
        workers.broadcast(_discard_checkpoints, finished[0].checkpoint_root, [job.group_key for job in finished])
    return trained


def _result(key: str, experiment: str, spec: RunSpec, record: dict[str, Any], reused: bool) -> RunResult:
    fields = {name: record[name] for name in ("status", "history", "weights", "initial_weights", "final_epoch_batches", "metadata")}
    return RunResult(key=key, experiment=experiment, spec=spec, reused=reused, **fields)


def run_experiment(name: str, preset: Preset, store: ResultStore | str | os.PathLike[str], **options: Any) -> list[RunResult]:
    """The runs of experiment ``name`` of ``preset``, trained or reused, in the preset's order.

    The options are those of :func:`run_preset`.
    """
    return run_preset(preset, store, only=[name], **options)[name]


def run_preset(
    preset: Preset,
    store: ResultStore | str | os.PathLike[str],
    *,
    only: Sequence[str] | None = None,
    device: str = "cpu",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    workers: Workers | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    checkpoint_every_s: float | None = DEFAULT_CHECKPOINT_EVERY_S,
    checkpoint_every_epochs: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> dict[str, list[RunResult]]:
    """The runs of every experiment of ``preset`` (or of those in ``only``), trained or reused.

    The missing runs of all these experiments are planned into groups first and the groups
    are trained together on ``workers`` (:class:`~numerics.training.parallel.Workers`;
    default: this process, one group after the other); every group's runs are stored in
    ``store`` as soon as it comes back, so an interrupted call keeps every finished group.

    ``device``: ``cpu`` or ``cuda`` (same code, on whatever machine trains the group).
    ``data_dir``: offline data directory, a path on the machine that trains (default there:
    ``$RANKBOUND_DATA``, then ``~/.cache/rankbound``); ``download``: let scikit-learn /
    torchvision download data missing there. ``checkpoint_dir``: results-store root whose
    ``checkpoints/`` section holds the checkpoints of groups in training, written by the
    machine that trains the group (default: ``store``; resolved to an absolute path here).
    ``progress``: tqdm bars (epochs of groups trained in this process, otherwise finished
    groups). ``on_epoch(epochs_done)`` is called after every epoch of every group trained in
    this process.
    """
    names = list(only) if only is not None else list(preset.experiments)
    experiments = {name: preset[name] for name in names}
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    torch.device(device)  # rejects a malformed device string before any work
    checkpoint_root = str(Path(checkpoint_dir if checkpoint_dir is not None else store.root).absolute())
    keys = {name: [run_key(spec) for spec in experiment.runs] for name, experiment in experiments.items()}
    found: dict[str, dict[str, Any] | None] = {}
    for name, experiment in experiments.items():
        for spec, key in zip(experiment.runs, keys[name]):
            if key not in found:
                found[key] = _load_finished(store, spec, key)
    jobs: list[GroupJob] = []
    planned: set[str] = set()
    for name, experiment in experiments.items():
        missing = [spec for spec, key in zip(experiment.runs, keys[name]) if found[key] is None and key not in planned]
        planned.update(run_key(spec) for spec in missing)
        groups = plan_groups(missing, experiment.group_size)
        jobs += [
            GroupJob(
                tuple(group),
                f"{name} {index + 1}/{len(groups)} ({len(group)} models)",
                device,
                None if data_dir is None else str(Path(data_dir).absolute()),
                download,
                checkpoint_root,
                checkpoint_every_s,
                checkpoint_every_epochs,
            )
            for index, group in enumerate(groups)
        ]
    trained = _train_jobs(jobs, store, workers or Workers(), progress, on_epoch)
    return {
        name: [
            _result(key, name, spec, found[key] or trained[key], reused=found[key] is not None)
            for spec, key in zip(experiment.runs, keys[name])
        ]
        for name, experiment in experiments.items()
    }

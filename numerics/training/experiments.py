"""Train the runs of an experiment through the results store: reuse, group, resume, record.

:func:`run_experiment` is the entry point of the checks and reports layers::

    from numerics.training import load_preset, run_experiment
    runs = run_experiment("chen_california", load_preset("quick"), "results")
    for run in runs:
        run.spec.mu_v, run.status, run.history["train_mse"][-1], run.weights["V"]

For every run of the experiment it

1. computes the run key, :func:`run_key` (content hash of the canonical run spec salted with
   :data:`~numerics.training.specs.TRAINING_CODE_VERSION`), and reuses a finished entry of the
   store when its checksum verifies and it holds a run record;
2. puts the missing runs that share a group signature into groups of at most
   ``group_size`` models, each trained as one batched tensor program (groups are independent
   :func:`joblib.Parallel` tasks: ``n_jobs``, or a ``joblib.parallel_config`` backend such as
   Dask, spreads them over processes or a cluster);
3. checkpoints each group atomically every ``checkpoint_every_s`` seconds (and/or
   ``checkpoint_every_epochs`` epochs) and resumes from its checkpoint after an interruption;
   the resumed run is bit-identical to an uninterrupted one;
4. stores every finished or diverged model as its own entry, then drops the group checkpoint.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import torch
from tqdm.auto import tqdm

from numerics.data import Split, load_split
from numerics.store import CHECKPOINTS, RUNS, CorruptEntryWarning, ResultStore, content_key
from numerics.training.config import Preset
from numerics.training.decay import DecayResolution, run_decay_resolutions
from numerics.training.groups import PLANNERS
from numerics.training.loop import CHECKPOINT_LAYOUT, train_group
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


def _train_group(
    specs: list[RunSpec],
    store_root: str,
    device: str,
    data_dir: str | None,
    download: bool,
    label: str,
    progress: bool,
    checkpoint_every_s: float | None,
    checkpoint_every_epochs: int | None,
    on_epoch: Callable[[int], None] | None,
) -> list[dict[str, Any]]:
    """Train one group (resuming from its checkpoint if any), store each run, return the records."""
    store = ResultStore(store_root)
    keys = [run_key(spec) for spec in specs]
    group_key = content_key({"code": TRAINING_CODE_VERSION, "group": keys})
    splits = [load_split(spec.data, data_dir, download=download) for spec in specs]
    plan = PLANNERS[specs[0].KIND](specs, splits, device)
    resume = store.load(CHECKPOINTS, group_key, CHECKPOINT_LAYOUT)
    resumed_from = resume["loop"]["epoch"] if resume is not None else 0
    bar = tqdm(total=plan.schedule.epochs, initial=resumed_from, desc=label, unit="epoch", disable=not progress, leave=False)

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
            checkpoint=lambda payload: store.save(CHECKPOINTS, group_key, payload),
            checkpoint_every_epochs=checkpoint_every_epochs,
            checkpoint_every_s=checkpoint_every_s,
            on_epoch=after_epoch,
        )
    wall = time.perf_counter() - start
    records = []
    for spec, key, split, initial, outcome in zip(specs, keys, splits, plan.initial_weights, outcomes):
        record = {
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
                "device": str(device),
                "torch": str(torch.__version__),
                "code_version": TRAINING_CODE_VERSION,
                "epochs_run": outcome.epochs_run,
                "decay_resolution": [resolution.to_json() for resolution in run_decay_resolutions(spec)],
                "group": {"members": keys, "resumed_from_epoch": resumed_from, "wall_s": wall},
            },
        }
        store.save(RUNS, key, record)
        records.append(record)
    store.discard(CHECKPOINTS, group_key)
    return records


def _result(key: str, experiment: str, spec: RunSpec, record: dict[str, Any], reused: bool) -> RunResult:
    fields = {name: record[name] for name in ("status", "history", "weights", "initial_weights", "final_epoch_batches", "metadata")}
    return RunResult(key=key, experiment=experiment, spec=spec, reused=reused, **fields)


def run_experiment(
    name: str,
    preset: Preset,
    store: ResultStore | str | os.PathLike[str],
    *,
    device: str = "cpu",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    n_jobs: int | None = None,
    progress: bool = False,
    checkpoint_every_s: float | None = DEFAULT_CHECKPOINT_EVERY_S,
    checkpoint_every_epochs: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> list[RunResult]:
    """The runs of experiment ``name`` of ``preset``, trained or reused, in the preset's order.

    ``device``: ``cpu`` or ``cuda`` (same code). ``data_dir``: offline data directory (default
    ``$RANKBOUND_DATA``, then ``~/.cache/rankbound``); ``download``: let scikit-learn /
    torchvision download data missing there. ``n_jobs``: groups trained in parallel
    by joblib (default: joblib's active backend, sequential unless configured).
    ``progress``: tqdm bars (only when groups run in this process). ``on_epoch(epochs_done)``
    is called after every epoch of every group trained in this process.
    """
    experiment = preset[name]
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    torch.device(device)  # rejects a malformed device string before any work
    keys = [run_key(spec) for spec in experiment.runs]
    records = {key: _load_finished(store, spec, key) for spec, key in zip(experiment.runs, keys)}
    missing = [spec for spec, key in zip(experiment.runs, keys) if records[key] is None]
    groups = plan_groups(missing, experiment.group_size)
    in_process = joblib.effective_n_jobs(n_jobs) == 1
    data = None if data_dir is None else str(Path(data_dir))
    tasks = (
        joblib.delayed(_train_group)(
            group,
            str(store.root),
            device,
            data,
            download,
            f"{name} {index + 1}/{len(groups)} ({len(group)} models)",
            progress and in_process,
            checkpoint_every_s,
            checkpoint_every_epochs,
            on_epoch if in_process else None,
        )
        for index, group in enumerate(groups)
    )
    trained = {run_key(spec): record for group, group_records in zip(groups, joblib.Parallel(n_jobs=n_jobs)(tasks)) for spec, record in zip(group, group_records)}
    return [
        _result(key, name, spec, records[key] or trained[key], reused=records[key] is not None)
        for spec, key in zip(experiment.runs, keys)
    ]


def run_preset(
    preset: Preset, store: ResultStore | str | os.PathLike[str], *, only: Sequence[str] | None = None, **options: Any
) -> dict[str, list[RunResult]]:
    """:func:`run_experiment` for every experiment of ``preset`` (or those in ``only``), in order."""
    names = list(only) if only is not None else list(preset.experiments)
    return {name: run_experiment(name, preset, store, **options) for name in names}

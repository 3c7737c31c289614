"""Presets: TOML files describing every experiment as a set of runs.

A preset is a TOML document with one table per experiment::

    [chen_california]            # experiment name
    kind = "chen"                # chen | ledent | oymak (see numerics.training.specs)
    group_size = 8               # at most this many models per batched tensor program
    width = 512                  # run fields shared by every run of the experiment ...
    [chen_california.data]       # ... including the data split (numerics.data.DataSpec)
    name = "california"
    [[chen_california.sweep]]    # each sweep: the product of its lists, over the fields above
    mu_v = [1e-5, 1e-4, 1e-3]
    batch_size = [16]
    [[chen_california.sweep]]
    mu_v = [0.1]
    batch_size = [8, 16, 32]
    data = { label_noise = [0.0, 0.5] }   # data fields can be swept too
    [[chen_california.sweep]]
    mu_v = [0.1]
    batch_size = [8, 32]
    equal_steps_batch_size = 16   # not an axis: scales each run's epochs to equal optimiser steps

``equal_steps_batch_size = B0`` in a sweep gives every run of that sweep
``round(epochs * (n_train // B0) / (n_train // B))`` epochs, so that it takes as many optimiser
steps as a run of batch size B0 with the shared ``epochs`` (equal within one epoch's steps):
the equal-steps protocol of a batch-size ablation, beside the equal-epochs one.

An experiment's runs are the union of its sweeps (a run in two sweeps is trained once); with
no sweep it is the single run the shared fields describe. Shipped presets: ``quick`` and
``paper`` (``numerics/training/presets/*.toml``); any other argument is read as a file path.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from numerics.data.spec import DataSpec, is_int, require
from numerics.training.specs import RUN_KINDS, RunSpec

SHIPPED_PRESETS = ("quick", "paper")
#: keys of an experiment table that are not run fields
EXPERIMENT_KEYS = ("kind", "group_size", "sweep")
DEFAULT_GROUP_SIZE = 8


@dataclass(frozen=True)
class ExperimentConfig:
    """An experiment: its name, run kind, expanded runs (deduplicated, in order) and group size."""

    name: str
    kind: str
    runs: tuple[RunSpec, ...]
    group_size: int = DEFAULT_GROUP_SIZE


@dataclass(frozen=True)
class Preset:
    """A named set of experiments and the file it was read from."""

    name: str
    origin: str
    experiments: dict[str, ExperimentConfig]

    def __getitem__(self, name: str) -> ExperimentConfig:
        if name not in self.experiments:
            raise ValueError(f"experiment={name!r} violates experiment in {tuple(self.experiments)} (preset {self.name})")
        return self.experiments[name]


def _sweep_axes(sweep: dict[str, Any], where: str) -> list[tuple[tuple[str, ...], list[Any]]]:
    """``[(path, values)]`` of a sweep table; ``data = {...}`` nests one level."""
    axes = []
    for key, values in sweep.items():
        if key == "data" and isinstance(values, dict):
            axes.extend(((key, inner), v) for (inner,), v in _sweep_axes(values, f"{where}.data"))
            continue
        require(isinstance(values, list) and len(values) > 0, f"{where}.{key}", values, "a non-empty list of values")
        axes.append(((key,), values))
    return axes


EQUAL_STEPS = "equal_steps_batch_size"


def _equal_steps_epochs(fields: dict[str, Any], reference: Any, where: str) -> int:
    """Epochs giving a run of ``fields["batch_size"]`` the steps of ``reference``-sized batches."""
    require(is_int(reference) and reference >= 1, f"{where}.{EQUAL_STEPS}", reference, f"{EQUAL_STEPS} >= 1 (an integer)")
    rows = fields.get("data", {}).get("n_train")
    batch_size, epochs = fields.get("batch_size"), fields.get("epochs")
    require(is_int(rows) and is_int(batch_size) and is_int(epochs), where, EQUAL_STEPS, "data.n_train, batch_size and epochs set (integers)")
    require(1 <= reference <= rows and 1 <= batch_size <= rows, where, EQUAL_STEPS, f"1 <= batch sizes <= data.n_train = {rows}")
    return max(1, round(epochs * (rows // reference) / (rows // batch_size)))


def _build_run(cls: type[RunSpec], fields: dict[str, Any]) -> RunSpec:
    known = cls.field_names()
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; known keys: {', '.join(known + EXPERIMENT_KEYS)}")
    data = fields.get("data")
    require(isinstance(data, dict), "data", data, "a table with the data split (name, n_train, n_test, ...)")
    data_keys = tuple(f.name for f in dataclasses.fields(DataSpec))
    unknown = sorted(set(data) - set(data_keys))
    if unknown:
        raise ValueError(f"unknown key 'data.{unknown[0]}'; known data keys: {', '.join(data_keys)}")
    try:
        return cls(**{**fields, "data": DataSpec(**data)})
    except TypeError as error:  # a required field is missing
        raise ValueError(f"incomplete run: {error}") from None


def parse_experiment(name: str, table: dict[str, Any]) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of one preset table; ``ValueError`` names the offending key."""
    try:
        require(isinstance(table, dict), name, table, "a table")
        kind = table.get("kind")
        require(kind in RUN_KINDS, "kind", kind, f"kind in {tuple(RUN_KINDS)}")
        group_size = table.get("group_size", DEFAULT_GROUP_SIZE)
        require(is_int(group_size) and group_size >= 1, "group_size", group_size, "group_size >= 1 (an integer)")
        sweeps = table.get("sweep", [{}])
        require(isinstance(sweeps, list), "sweep", sweeps, "an array of tables [[sweep]]")
        template = {key: value for key, value in table.items() if key not in EXPERIMENT_KEYS}
        runs: dict[str, RunSpec] = {}
        for index, sweep in enumerate(sweeps):
            require(isinstance(sweep, dict), f"sweep[{index}]", sweep, "a table")
            reference = sweep.get(EQUAL_STEPS)
            axes = _sweep_axes({key: value for key, value in sweep.items() if key != EQUAL_STEPS}, f"sweep[{index}]")
            for values in itertools.product(*(values for _, values in axes)):
                fields = copy.deepcopy(template)
                for path, value in zip((path for path, _ in axes), values):
                    target = fields
                    for key in path[:-1]:
                        target = target.setdefault(key, {})
                    target[path[-1]] = value
                if reference is not None:
                    fields["epochs"] = _equal_steps_epochs(fields, reference, f"sweep[{index}]")
                run = _build_run(RUN_KINDS[kind], fields)
                runs.setdefault(json.dumps(run.canonical(), sort_keys=True), run)
    except ValueError as error:
        raise ValueError(f"[{name}] {error}") from None
    return ExperimentConfig(name, kind, tuple(runs.values()), group_size)


def parse_preset(document: dict[str, Any], name: str, origin: str = "<memory>") -> Preset:
    """A :class:`Preset` from a parsed TOML document (one table per experiment)."""
    require(len(document) > 0, "preset", name, "at least one experiment table")
    return Preset(name, origin, {key: parse_experiment(key, table) for key, table in document.items()})


def load_preset(name_or_path: str | Path) -> Preset:
    """A shipped preset by name (``quick``, ``paper``) or a TOML file by path.

    Raises ``ValueError`` for an unknown name, a missing or malformed file, or a bad value.
    """
    if str(name_or_path) in SHIPPED_PRESETS:
        resource = resources.files("numerics.training") / "presets" / f"{name_or_path}.toml"
        text, origin, name = resource.read_text(encoding="utf-8"), str(resource), str(name_or_path)
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ValueError(f"preset={str(name_or_path)!r} violates: a shipped preset {SHIPPED_PRESETS} or an existing TOML file")
        text, origin, name = path.read_text(encoding="utf-8"), str(path), path.stem
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"preset {origin}: not valid TOML: {error}") from None
    return parse_preset(document, name, origin)

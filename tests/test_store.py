"""Results store: checksummed atomic entries that execute nothing, reuse, corruption recovery, kill-and-resume."""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import re
import struct
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from torch_tasks import chen_run, oymak_run, preset_of

from numerics.store import CHECKPOINTS, HEADER_PREFIX, RUNS, CorruptEntryWarning, ResultStore, content_key
from numerics.training import experiments, run_experiment, run_key
from numerics.training import loop as training_loop
from numerics.training.parallel import Workers


class Interrupted(Exception):
    pass


def test_content_key_is_canonical() -> None:
    assert content_key({"a": 1, "b": [1.5, "x"]}) == content_key({"b": [1.5, "x"], "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 1.0000001})


def test_entries_round_trip_atomically(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = content_key({"run": 1})
    record = {"weights": {"V": np.arange(6.0).reshape(2, 3)}, "status": "finished"}
    path = store.save(RUNS, key, record)
    loaded = store.load(RUNS, key)
    assert np.array_equal(loaded["weights"]["V"], record["weights"]["V"]) and loaded["status"] == "finished"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    assert store.keys() == [key] and store.load(RUNS, content_key({"run": 2})) is None
    with pytest.raises(ValueError, match="section='cache' violates"):
        store.path("cache", key)


def test_a_corrupt_entry_is_reported_and_treated_as_missing(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = content_key({"run": 1})
    path = store.save(RUNS, key, {"x": np.ones(100)})
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.warns(CorruptEntryWarning, match="sha256"):
        assert store.load(RUNS, key) is None
    assert not path.exists() and path.with_suffix(".corrupt").exists()


def _identical(a: Any, b: Any) -> bool:
    """Equal in type and value; floats and arrays bit for bit (NaN payloads, signed zeros, dtype, order)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.isfortran(a) == np.isfortran(b) and a.tobytes("A") == b.tobytes("A")
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_identical, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_identical(x, y) for x, y in zip(a, b)) and all(_identical(a[k], b[k]) for k in a)
    return a == b


def test_plain_data_round_trips_exactly(tmp_path: Path) -> None:
    signalling_nan = struct.unpack(">d", bytes.fromhex("fff4000000000123"))[0]
    record = {
        "floats": [1.5, -0.0, 0.1, 5e-324, math.inf, -math.inf, math.nan, signalling_nan, 1e308],
        "scalars": [True, False, None, 0, -(10**40), "line\nbreak \u00e9", ""],
        "tuples": (1, (2.0, "x"), ()),
        "keys": {0: "int", 2.5: "float", (1, "a"): "tuple", None: "none", True: "bool"},
        "empty": {},
        "arrays": {
            "big_endian": np.arange(6, dtype=">f4").reshape(2, 3),
            "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
            "view": np.arange(10)[::3],
            "nan": np.array([np.nan, -np.inf, -0.0]),
            "zero_d": np.array(7, dtype=np.int16),
            "empty": np.empty((0, 4), np.complex64),
            "bool": np.array([True, False]),
            "dates": np.array(["2024-01-01"], dtype="datetime64[D]"),
        },
        "numpy_scalars": [np.float64(0.25), np.float32(1 / 3), np.int64(-5), np.bool_(True), np.uint8(255)],
    }
    store = ResultStore(tmp_path)
    key = content_key({"run": 1})
    store.save(RUNS, key, record)
    loaded = store.load(RUNS, key)
    assert _identical(loaded, record)
    assert np.isnan(loaded["floats"][7]) and loaded["arrays"]["view"].tolist() == [0, 3, 6, 9]


@pytest.mark.parametrize(
    ("value", "where"),
    [({"w": object()}, "entry['w']"), ({"a": [np.array([None])]}, "entry['a'][0]"), ({"s": {1, 2}}, "entry['s']")],
)
def test_what_the_store_cannot_hold_exactly_is_refused_before_writing(tmp_path: Path, value: dict, where: str) -> None:
    store = ResultStore(tmp_path)
    with pytest.raises(TypeError, match=re.escape(f"store: {where} is")):
        store.save(RUNS, content_key({"run": 1}), value)
    assert store.keys() == [] and not any(tmp_path.rglob("*.tmp"))


class WriteMarker:
    """Unpickling it creates the file ``marker``: what a hostile store entry would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return os.system, (f"touch {self.marker}",)


def _entry(header_prefix: bytes, payload: bytes) -> bytes:
    """An entry with a valid checksum over ``payload``."""
    return header_prefix + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def _object_array_npz(marker: Path) -> bytes:
    """A JSON tree referencing an .npz member that is an object array, i.e. a pickle."""
    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([WriteMarker(marker)], dtype=object))
    return b'{"array":"a0"}\n' + buffer.getvalue()


@pytest.mark.parametrize(
    ("suffix", "make", "message"),
    [
        (".joblib", lambda marker: _entry(b"rankbound-store v1 sha256=", pickle.dumps(WriteMarker(marker))), "v1 format, a pickle, which is never loaded"),
        (".entry", lambda marker: _entry(b"rankbound-store v1 sha256=", pickle.dumps(WriteMarker(marker))), "store format v1"),
        (".entry", lambda marker: _entry(HEADER_PREFIX, pickle.dumps(WriteMarker(marker))), "payload without its .npz array archive"),
        (".entry", lambda marker: _entry(HEADER_PREFIX, b"{}\n" + pickle.dumps(WriteMarker(marker))), "zip|pickle"),
        (".entry", lambda marker: _entry(HEADER_PREFIX, _object_array_npz(marker)), "Object arrays cannot be loaded when allow_pickle=False"),
    ],
    ids=["v1 pickle", "v1 header in a v2 file", "v2 header, pickle payload", "v2 header, pickle as archive", "v2 header, object array"],
)
def test_a_pickle_with_a_valid_checksum_is_never_executed(tmp_path: Path, suffix: str, make: Any, message: str) -> None:
    marker = tmp_path / "marker"
    store = ResultStore(tmp_path / "store")
    key = content_key({"run": 1})
    path = store.path(RUNS, key).with_suffix(suffix)
    path.parent.mkdir(parents=True)
    path.write_bytes(make(marker))
    with pytest.warns(CorruptEntryWarning, match=message):
        assert store.load(RUNS, key) is None
    assert not marker.exists()
    pickle.loads(pickle.dumps(WriteMarker(marker)))  # the control: unpickling does run the payload
    assert marker.exists()


def test_an_entry_replaced_by_a_directory_is_set_aside_and_recomputed(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = content_key({"run": 1})
    path = store.path(RUNS, key)
    path.mkdir(parents=True)
    (path / "inside").write_text("kept")
    path.with_suffix(".corrupt").write_text("an earlier corrupt entry")
    with pytest.warns(CorruptEntryWarning, match="Is a directory"):
        assert store.load(RUNS, key) is None
    assert (path.parent / f"{key}.1.corrupt" / "inside").read_text() == "kept"
    assert path.with_suffix(".corrupt").read_text() == "an earlier corrupt entry"
    store.save(RUNS, key, {"x": 1})
    assert store.load(RUNS, key) == {"x": 1}


def test_an_entry_of_another_layout_is_set_aside(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = content_key({"run": 1})
    for stored, problem in [
        ([1, 2], "entry is list, expected dict"),
        ({"weights": {"V": "text"}}, "entry\\['weights'\\]\\['V'\\] is str, expected ndarray"),
        ({"weights": {1: np.ones(2)}}, "has a key that is not a string"),
        ({}, "entry lacks 'weights'"),
    ]:
        store.save(RUNS, key, stored)
        with pytest.warns(CorruptEntryWarning, match=problem):
            assert store.load(RUNS, key, {"weights": {str: np.ndarray}}) is None
        assert not store.path(RUNS, key).exists()


def _count_groups(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the run keys of every group handed to training."""
    trained: list[list[str]] = []
    original = experiments._train_group

    def counting(job, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        trained.append(job.keys)
        return original(job, *args, **kwargs)

    monkeypatch.setattr(experiments, "_train_group", counting)
    return trained


def test_a_second_run_reuses_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = preset_of([chen_run(seed=0), chen_run(seed=1, mu_v=0.1)])
    trained = _count_groups(monkeypatch)
    first = run_experiment("task", preset, tmp_path)
    second = run_experiment("task", preset, tmp_path)
    assert len(trained) == 1 and [r.reused for r in first] == [False, False] and [r.reused for r in second] == [True, True]
    for a, b in zip(first, second):
        assert a.key == b.key and a.spec == b.spec
        assert np.array_equal(a.weights["V"], b.weights["V"]) and np.array_equal(a.history["test_mse"], b.history["test_mse"])
        assert np.array_equal(a.initial_weights["V"], b.initial_weights["V"])
    assert first[0].metadata["data"]["dataset"] == "california" and first[0].metadata["init"].startswith("he_normal")


def test_a_corrupt_run_is_recomputed_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = preset_of([chen_run(seed=0), chen_run(seed=1)])
    first = run_experiment("task", preset, tmp_path)
    path = ResultStore(tmp_path).path(RUNS, first[1].key)
    path.write_bytes(path.read_bytes()[:-50])  # truncated: a torn write by some other tool
    trained = _count_groups(monkeypatch)
    with pytest.warns(CorruptEntryWarning):
        second = run_experiment("task", preset, tmp_path)
    assert trained == [[first[1].key]]
    assert [r.reused for r in second] == [True, False]
    assert np.array_equal(second[1].weights["V"], first[1].weights["V"])


def test_a_run_or_checkpoint_of_the_wrong_type_is_recomputed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = preset_of([chen_run(seed=0, epochs=4)])
    reference = run_experiment("task", preset, tmp_path / "reference")
    store = ResultStore(tmp_path / "hostile")
    key = run_key(preset["task"].runs[0])
    store.save(RUNS, key, ["a list where a run record belongs"])
    group_key = content_key({"code": experiments.TRAINING_CODE_VERSION, "group": [key]})
    store.save(CHECKPOINTS, group_key, {"loop": {"epoch": "3"}, "weights": {}})
    trained = _count_groups(monkeypatch)
    with pytest.warns(CorruptEntryWarning) as warned:
        again = run_experiment("task", preset, store)
    assert trained == [[key]] and not again[0].reused and again[0].metadata["group"]["resumed_from_epoch"] == 0
    assert np.array_equal(again[0].weights["V"], reference[0].weights["V"])
    messages = " ".join(str(warning.message) for warning in warned)
    assert "entry is list, expected dict" in messages and "entry['loop'] lacks 'active'" in messages


def test_an_interrupted_sweep_resumes_bit_for_bit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = [chen_run(seed=0, epochs=6), chen_run(seed=1, epochs=6, mu_v=0.2), chen_run(seed=2, epochs=6, lr=50.0)]
    preset = preset_of(runs)
    reference = run_experiment("task", preset, tmp_path / "uninterrupted")

    def stop_after_three(epochs_done: int) -> None:
        if epochs_done == 3:
            raise Interrupted

    store = tmp_path / "interrupted"
    with pytest.raises(Interrupted):
        run_experiment("task", preset, store, checkpoint_every_epochs=1, on_epoch=stop_after_three)
    assert ResultStore(store).keys(RUNS) == [] and len(ResultStore(store).keys(CHECKPOINTS)) == 1

    steps = []
    original_step = training_loop.train_group

    def counting_train_group(trainable, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        step = trainable.step
        trainable.step = lambda batch: steps.append(1) or step(batch)
        return original_step(trainable, *args, **kwargs)

    monkeypatch.setattr(experiments, "train_group", counting_train_group)
    resumed = run_experiment("task", preset, store, checkpoint_every_epochs=1)
    assert len(steps) == 3 * (160 // 16)  # epochs 4..6 of the two models still training, one batched step each
    assert ResultStore(store).keys(CHECKPOINTS) == []
    assert [r.status for r in resumed] == [r.status for r in reference] == ["finished", "finished", "diverged"]
    for a, b in zip(reference, resumed):
        for name in a.weights:
            assert np.array_equal(a.weights[name], b.weights[name], equal_nan=True)
        for name in a.history:
            assert np.array_equal(a.history[name], b.history[name], equal_nan=True), name
        assert np.array_equal(a.final_epoch_batches, b.final_epoch_batches)
    assert resumed[0].metadata["group"]["resumed_from_epoch"] == 3


def _parallel_equals_sequential(tmp_path: Path, **options) -> None:  # noqa: ANN003
    preset = preset_of([oymak_run(seed=0), oymak_run(seed=1, hidden=12)])  # two shapes, two groups
    parallel = run_experiment("task", preset, tmp_path / "parallel", **options)
    sequential = run_experiment("task", preset, tmp_path / "sequential")
    for a, b in zip(parallel, sequential):
        assert np.array_equal(a.weights["W"], b.weights["W"])


def test_groups_can_run_on_a_joblib_backend(tmp_path: Path) -> None:
    with joblib.parallel_config(backend="threading", n_jobs=2):
        _parallel_equals_sequential(tmp_path)


@pytest.mark.slow
def test_groups_can_run_in_joblib_worker_processes(tmp_path: Path) -> None:
    _parallel_equals_sequential(tmp_path, workers=Workers(jobs=2))

"""Sweeps on a real dask.distributed cluster: identical stored runs, a SIGKILLed worker, a lost scheduler.

The clusters are real: a ``LocalCluster`` of two worker processes (each under a nanny that
restarts it), or a scheduler and a worker started as separate processes the way the README
starts them. Faults are real too: a worker process is killed with SIGKILL in the middle of a
group (by a hook installed in the workers with ``client.run``, so that the kill lands at a
known epoch), or the scheduler process is killed while a group trains.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import tomllib
from click.testing import CliRunner
from distributed import Client, LocalCluster
from torch_tasks import TINY_PRESET_TOML, chen_run, preset_of, write_tiny_preset

from numerics.store import CHECKPOINTS, RUNS, ResultStore
from numerics.training import parse_preset, run_preset
from numerics.training import parallel as parallel_module
from numerics.training.config import Preset
from numerics.training.parallel import Workers
from rankbound.cli import cli

#: three groups: tiny_chen at two batch sizes (2 models each) and tiny_ledent (1 model)
THREE_GROUPS_TOML = TINY_PRESET_TOML.replace("batch_size = [16]", "batch_size = [16, 24]")
#: metadata that says how a run was executed, not what it computed
EXECUTION = ("wall_s", "threads", "resumed_from_epoch")


@pytest.fixture(scope="module")
def client() -> Any:
    """A real LocalCluster: two single-threaded worker processes, each under a nanny."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as connected:
        yield connected


def _records(root: Path) -> dict[str, dict[str, Any]]:
    store = ResultStore(root)
    records = {key: store.load(RUNS, key) for key in store.keys(RUNS)}
    assert all(record is not None for record in records.values())
    return records


def _assert_identical(a: Any, b: Any, where: str = "record") -> None:
    """Equal in type and value; arrays bit for bit (dtype, shape, NaN payloads aside from equal_nan)."""
    assert type(a) is type(b), where
    if isinstance(a, dict):
        keys = set(a) - ({*EXECUTION} if where.endswith("['group']") else set())
        assert keys == set(b) - ({*EXECUTION} if where.endswith("['group']") else set()), where
        for key in keys:
            _assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), where
    else:
        assert a == b or (a != a and b != b), where


def _assert_same_runs(ours: Path, reference: Path) -> None:
    """The two stores hold the same run keys and bit-identical records (execution metadata aside)."""
    got, expected = _records(ours), _records(reference)
    assert sorted(got) == sorted(expected) and expected
    for key in expected:
        _assert_identical(got[key], expected[key], f"runs[{key[:8]}]")


def _three_groups() -> Preset:
    return parse_preset(tomllib.loads(THREE_GROUPS_TOML), "tiny")


def test_a_sweep_on_a_local_cluster_stores_the_runs_of_the_sequential_sweep(client: Any, tmp_path: Path) -> None:
    preset = _three_groups()
    run_preset(preset, tmp_path / "sequential")
    results = run_preset(preset, tmp_path / "dask", workers=Workers(client=client))
    _assert_same_runs(tmp_path / "dask", tmp_path / "sequential")
    assert [len(runs) for runs in results.values()] == [4, 1] and not any(run.reused for runs in results.values() for run in runs)
    # trained in the workers, under the thread budget of 2 single-threaded workers on this machine
    budget = max(1, joblib.cpu_count() // 2)
    assert {run.metadata["group"]["threads"] for runs in results.values() for run in runs} == {budget}
    assert ResultStore(tmp_path / "dask").keys(CHECKPOINTS) == []
    again = run_preset(preset, tmp_path / "dask", workers=Workers(client=client))
    assert all(run.reused for runs in again.values() for run in runs)


def _die_before_checkpoint(marker: str, epoch: int) -> None:
    """Installed in every worker: the first worker about to checkpoint ``epoch`` writes its pid to ``marker`` and SIGKILLs itself."""
    from numerics.store import CHECKPOINTS, ResultStore

    original = ResultStore.save

    def save(self, section, key, obj):  # noqa: ANN001, ANN202
        if section == CHECKPOINTS and obj["loop"]["epoch"] == epoch:
            try:
                descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(descriptor, str(os.getpid()).encode())
                os.close(descriptor)
                os.kill(os.getpid(), signal.SIGKILL)
        return original(self, section, key, obj)

    ResultStore.save = save


def test_a_worker_killed_mid_group_loses_only_the_epochs_since_its_checkpoint(client: Any, tmp_path: Path) -> None:
    # two groups (batch sizes 16 and 32) of 6 epochs, checkpointed every 2 epochs
    runs = [chen_run(seed=seed, epochs=6, batch_size=batch, mu_v=mu) for seed, batch, mu in [(0, 16, 1e-3), (1, 16, 0.1), (2, 32, 1e-2)]]
    preset = preset_of(runs)
    run_preset(preset, tmp_path / "sequential")
    client.wait_for_workers(2)
    marker = tmp_path / "killed.pid"
    client.run(_die_before_checkpoint, str(marker), 4)
    results = run_preset(preset, tmp_path / "dask", workers=Workers(client=client), checkpoint_every_epochs=2)
    killed = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)  # the worker process is gone ...
    _assert_same_runs(tmp_path / "dask", tmp_path / "sequential")  # ... and every run is stored, identical
    resumed = sorted({run.metadata["group"]["resumed_from_epoch"] for run in results["task"]})
    assert resumed == [0, 2]  # the killed group resumed from its epoch-2 checkpoint; epochs 3-4 were lost
    assert ResultStore(tmp_path / "dask").keys(CHECKPOINTS) == []


def _kill_scheduler_at_second_group(pid_file: str, store: str) -> None:
    """Installed in the worker: when its second group starts, wait until the first group's runs are in
    the client's ``store``, then SIGKILL the scheduler whose pid is in ``pid_file``."""
    from numerics.store import CHECKPOINTS, ResultStore

    original = ResultStore.load
    started = []

    def load(self, section, key, layout=object):  # noqa: ANN001, ANN202
        if section == CHECKPOINTS:
            started.append(key)
            if len(started) == 2:
                deadline = time.monotonic() + 120
                while not ResultStore(store).keys() and time.monotonic() < deadline:
                    time.sleep(0.05)
                os.kill(int(Path(pid_file).read_text()), signal.SIGKILL)
        return original(self, section, key, layout)

    ResultStore.load = load


def _start(arguments: list[str], log: Path) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with log.open("wb") as output:
        return subprocess.Popen([sys.executable, "-m", *arguments], stdout=output, stderr=subprocess.STDOUT, env=environment)


def _wait_for(condition: Any, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def test_losing_the_scheduler_stops_the_command_with_a_clear_error_and_a_resumable_store(tmp_path: Path) -> None:
    preset = write_tiny_preset(tmp_path)  # two groups: tiny_chen (2 runs), tiny_ledent (1 run)
    store = tmp_path / "store"
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = _start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)], tmp_path / "scheduler.log")
    worker = None
    try:
        _wait_for(scheduler_file.exists, "the scheduler file")
        address = json.loads(scheduler_file.read_text())["address"]
        (tmp_path / "scheduler.pid").write_text(str(scheduler.pid))
        worker = _start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard"], tmp_path / "worker.log")
        with Client(address, timeout=60) as setup:
            setup.wait_for_workers(1, timeout=120)
            setup.run(_kill_scheduler_at_second_group, str(tmp_path / "scheduler.pid"), str(store))
        arguments = ["train", "--preset", str(preset), "--store", str(store)]
        result = CliRunner().invoke(cli, [*arguments, "--scheduler", address])
        assert scheduler.wait(timeout=60) == -signal.SIGKILL
    finally:
        for process in (worker, scheduler):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=60)
    assert result.exit_code == 1, result.output
    (message,) = [line for line in re.split(r"[\r\n]", result.stderr) if line.startswith("Error:")]  # the rest: progress bars
    assert message.startswith(f"Error: lost the Dask scheduler at {address}")
    assert f"1 of 2 groups finished and are stored in {store}; run the same command again" in message
    assert "Traceback" not in result.output
    stored = _records(store)  # the finished group's runs, whole and verified
    assert len(stored) in (1, 2)
    resumed = CliRunner().invoke(cli, arguments)
    assert resumed.exit_code == 0, resumed.output
    assert f"trained {3 - len(stored)}, reused {len(stored)}" in resumed.stdout
    reference = CliRunner().invoke(cli, ["train", "--preset", str(preset), "--store", str(tmp_path / "reference")])
    assert reference.exit_code == 0, reference.output
    _assert_same_runs(store, tmp_path / "reference")


def test_an_unreachable_scheduler_is_one_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_module, "CONNECT_TIMEOUT_S", 1)
    preset = write_tiny_preset(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--preset", str(preset), "--store", str(tmp_path / "s"), "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: scheduler='tcp://127.0.0.1:9': no Dask scheduler answered within 1 s")
    assert len(result.stderr.strip().splitlines()) == 1 and ResultStore(tmp_path / "s").keys(RUNS) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "0"], "Error: jobs=0 violates jobs >= 1 or jobs == -1 (one per core)"),
        (["--jobs", "2", "--scheduler", "tcp://127.0.0.1:9"], "Error: jobs=2 violates: jobs sizes a local cluster (scheduler='local')"),
    ],
)
def test_bad_worker_options_are_one_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["train", "--preset", str(write_tiny_preset(tmp_path)), "--store", str(tmp_path / "s"), *args])
    assert result.exit_code == 2 and result.stderr.startswith(message), result.output


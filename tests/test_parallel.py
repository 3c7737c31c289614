"""Workers without Dask: the thread budget rule, the checkpoint directory, bad options."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_tasks import chen_run, preset_of

from numerics.store import RUNS, ResultStore
from numerics.training import run_preset
from numerics.training.parallel import Workers, WorkersError, thread_budget, threads_per_job


@pytest.mark.parametrize(("cores", "slots", "threads"), [(16, 4, 4), (16, 3, 5), (2, 2, 1), (2, 4, 1), (1, 1, 1), (8, 1, 8)])
def test_the_cores_of_a_machine_are_shared_evenly_by_its_job_slots(cores: int, slots: int, threads: int) -> None:
    assert threads_per_job(cores, slots) == threads
    assert threads_per_job(cores, slots) * slots <= max(cores, slots)  # never more threads than cores (one each at least)


def test_a_thread_budget_applies_inside_and_is_restored_after() -> None:
    before = torch.get_num_threads()
    with thread_budget(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_an_unwritable_checkpoint_directory_is_one_error_and_nothing_is_stored(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(WorkersError, match=r"checkpoint_dir='.*a-file/sub': group checkpoints cannot be written to .* \(Not a directory\)") as error:
        run_preset(preset_of([chen_run()]), tmp_path / "store", checkpoint_dir=blocker / "sub")
    assert "0 of 1 groups finished" in str(error.value) and ResultStore(tmp_path / "store").keys(RUNS) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jobs": 0}, "jobs=0 violates jobs >= 1 or jobs == -1"),
        ({"jobs": -2}, "jobs=-2 violates"),
        ({"jobs": True}, "jobs=True violates"),
        ({"jobs": 2, "scheduler": "tcp://h:8786"}, "jobs=2 violates: jobs sizes a local cluster"),
        ({"scheduler": " "}, "scheduler=' ' violates"),
        ({"scheduler": "local", "client": object()}, "client= excludes scheduler= and jobs="),
    ],
)
def test_bad_worker_options_name_the_parameter(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Workers(**options)


def test_where_jobs_run() -> None:
    assert Workers().in_process and Workers().describe() == "this process"
    assert Workers(jobs=1).in_process and not Workers(jobs=2).in_process and Workers(jobs=2).describe() == "2 local processes"
    assert Workers(scheduler="local", jobs=3).describe() == "a local Dask cluster of 3 worker processes"
    assert Workers(scheduler="tcp://h:8786").distributed and not Workers(scheduler="tcp://h:8786").in_process

"""Output paths that cannot be written are refused before any work (issue 13, section 5).

``rankbound report`` and ``rankbound reproduce`` used to find a bad ``--out`` only after
training, and ``rankbound train`` a bad ``--store`` with a traceback; each probe here must fail
at once with exit status 2, one ``Error:`` line naming the option, and nothing trained.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rankbound.cli import cli
from reports.outputs import OutputDirectoryError, check_writable

TINY_PRESET = Path(__file__).with_name("presets") / "tiny.toml"
HAS_PROC = Path("/proc/self").is_dir()


def bad_outputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (--out value, expected message part)."""
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    cases = {
        "under a file": (a_file / "report", f"cannot be created: {a_file} is not a directory"),
        "deep under a file": (a_file / "x" / "y", f"cannot be created: {a_file} is not a directory"),
        "a file": (a_file, "is a file"),  # click's own check of the option
    }
    if HAS_PROC:
        cases["in /proc"] = (Path("/proc/rankbound-report"), "cannot write in /proc")
    return cases


@pytest.mark.parametrize("command", ["report", "reproduce"])
@pytest.mark.parametrize("case", ["under a file", "deep under a file", "a file", "in /proc"])
def test_unwritable_out_fails_before_training(tmp_path: Path, command: str, case: str) -> None:
    cases = bad_outputs(tmp_path)
    if case not in cases:
        pytest.skip("no /proc")
    out, message = cases[case]
    store = tmp_path / "store"
    result = CliRunner().invoke(cli, [command, "--preset", str(TINY_PRESET), "--out", str(out), "--store", str(store)])
    assert result.exit_code == 2, result.output
    assert "--out" in result.stderr and message in result.stderr and "Traceback" not in result.output
    assert not store.exists()


def test_report_out_holding_foreign_files_fails_before_training(tmp_path: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("mine")
    result = CliRunner().invoke(cli, ["report", "--preset", str(TINY_PRESET), "--out", str(out), "--store", str(tmp_path / "store")])
    assert result.exit_code == 2 and "chapter1.tex" in result.stderr and "refusing to replace it" in result.stderr
    assert (out / "chapter1.tex").read_text() == "mine" and not (tmp_path / "store").exists()


def test_check_writable_accepts_creatable_paths_and_creates_nothing(tmp_path: Path) -> None:
    check_writable(tmp_path / "new" / "deeper")
    check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputDirectoryError, match="dangling is not a directory"):
        check_writable(tmp_path / "dangling")


@pytest.mark.parametrize("case", ["under a file", "deep under a file", "in /proc"])
def test_train_refuses_an_unwritable_store_before_training(tmp_path: Path, case: str) -> None:
    cases = bad_outputs(tmp_path)
    if case not in cases:
        pytest.skip("no /proc")
    store, message = cases[case]
    result = CliRunner().invoke(cli, ["train", "--preset", str(TINY_PRESET), "--store", str(store)])
    assert result.exit_code == 2 and "--store" in result.stderr and message in result.stderr, result.output
    assert "Traceback" not in result.output

"""Output directories: checked before any work, staged under recognisable names, cleaned after a kill.

A command that writes a directory first calls :func:`check_writable` (so that ``--out /proc/x``
or ``--out some_file/x`` fails at once, not after minutes of training), then builds its output
in a staging directory created by :func:`make_staging` next to the target and moves it into
place with :func:`move_into_place`. Staging directories are named
``.<target>.rankbound-<pid>-<random>.partial`` (``.old`` for a retired target): created with
``mkdir``, they get the permissions the umask gives (0755 under the usual 022), not the 0700
of :func:`tempfile.mkdtemp`. A process killed with SIGKILL cannot remove them;
:func:`clean_after_kill` removes those whose process is gone (a live process's are left
alone, and so are those of another host's process whose id happens to run here).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

__all__ = ["OutputDirectoryError", "check_writable", "clean_after_kill", "make_staging", "move_into_place"]

#: marks the names of staging directories: .<target>.rankbound-<pid>-<hex><suffix>
STAGING_TAG = "rankbound"


class OutputDirectoryError(ValueError):
    """An output directory cannot be created or written."""


def check_writable(directory: Path) -> None:
    """Raise :class:`OutputDirectoryError` unless ``directory`` exists as a writable directory or
    can be created: its nearest existing ancestor must be a directory in which this process can
    create entries (tried by creating and removing an empty directory there)."""
    directory = Path(directory).absolute()
    existing = directory
    while not os.path.lexists(existing):
        existing = existing.parent
    if not existing.is_dir():
        what = "is not a directory" if existing == directory else f"cannot be created: {existing} is not a directory"
        raise OutputDirectoryError(f"{directory} {what}")
    try:
        probe = tempfile.mkdtemp(prefix=f".{STAGING_TAG}-write-test-", dir=existing)
    except OSError as error:
        raise OutputDirectoryError(f"{directory}: cannot write in {existing} ({error.strerror or error})") from None
    os.rmdir(probe)


def make_staging(target: Path) -> Path:
    """Create and return an empty staging directory next to ``target`` (see the module docstring)."""
    while True:
        staging = target.parent / f".{target.name}.{STAGING_TAG}-{os.getpid()}-{secrets.token_hex(4)}.partial"
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        return staging


def move_into_place(built: Path, target: Path, staging: Path) -> None:
    """Rename ``built`` (inside or equal to ``staging``) to ``target``.

    An existing target is replaced by two renames: it is retired to ``staging``'s ``.old``
    name, ``built`` takes its place, and the retired one is deleted; if the second rename fails
    the retired target is put back.
    """
    if not os.path.lexists(target):
        built.rename(target)
        return
    retired = staging.with_suffix(".old")
    target.rename(retired)
    try:
        built.rename(target)
    except BaseException:
        retired.rename(target)
        raise
    shutil.rmtree(retired)


def clean_after_kill(target: Path) -> None:
    """Remove the staging directories of killed processes that wrote ``target``; put back a
    retired target that a kill between the two renames of :func:`move_into_place` left aside."""
    for staging in _stale_entries(target, ".partial"):
        shutil.rmtree(staging, ignore_errors=True)
    for retired in _stale_entries(target, ".old"):
        if os.path.lexists(target):
            shutil.rmtree(retired, ignore_errors=True)
        else:
            retired.rename(target)


def _stale_entries(target: Path, suffix: str) -> list[Path]:
    """Staging entries of ``target`` with ``suffix`` left by processes that no longer run."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{STAGING_TAG}-(\d+)-[0-9a-f]+{re.escape(suffix)}")
    if not target.parent.is_dir():
        return []
    stale = []
    for entry in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(entry.name)
        if match and not _running(int(match.group(1))):
            stale.append(entry)
    return stale


def _running(pid: int) -> bool:
    """Whether a process with this id exists (one owned by another user counts)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process; or an id no process can have
        return False
    except PermissionError:
        return True
    return True

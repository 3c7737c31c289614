"""Named tensors of a model, from a checkpoint file, a module or a mapping.

Files are read as data; nothing stored in them is executed. A state_dict saved with
``torch.save(model.state_dict(), path)`` is loaded with ``torch.load(path, weights_only=True)``;
a TorchScript archive (``torch.jit.save``) is read by :mod:`numerics.measures.torchscript`,
which takes the tensors of the saved module state without running the archive's code (it
never calls ``torch.jit.load``). A pickled full module, which ``weights_only`` refuses, is
reported with the advice to save its state_dict; it is never unpickled. The records of a zip
checkpoint (the format of both) are first checked (CRC-32, no directory flag), so a damaged
file is reported instead of read as other numbers. Every failure is a :class:`CheckpointError`
naming the file.
"""

from __future__ import annotations

import pickle
import re
import stat
import zipfile
from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import torch

from numerics.measures.torchscript import TorchScriptError, is_torchscript, read_tensors

__all__ = ["CheckpointError", "named_values"]

#: the MS-DOS "directory" bit of a zip record's external attributes
MSDOS_DIRECTORY = 0x10


class CheckpointError(ValueError):
    """The source could not be read as a set of named tensors."""


def named_values(source: str | PathLike[str] | torch.nn.Module | Mapping[str, Any]) -> dict[str, Any]:
    """Name -> value for every entry of ``source``, in order; nested mappings are joined with ``"."``.

    Values are returned as stored (tensors, and whatever else a checkpoint dict holds) so that
    the caller can say why it skips them.
    """
    if isinstance(source, torch.nn.Module):
        return dict(source.state_dict())
    if isinstance(source, Mapping):
        return dict(_flatten(source, ""))
    path = Path(source)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:  # ValueError: an embedded NUL byte
        raise CheckpointError(f"{str(path)!r}: {getattr(error, 'strerror', None) or error}") from None
    if stat.S_ISDIR(mode):
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    if not stat.S_ISREG(mode):
        raise CheckpointError(f"{path}: not a regular file")
    try:
        return _read_file(path)
    except CheckpointError:
        raise
    except Exception as error:  # zipfile, pickle and torch raise many types on arbitrary bytes
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({_first_line(error)})") from None


def _read_file(path: Path) -> dict[str, Any]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            _check_records(archive, path)
            if is_torchscript(archive):
                try:
                    return read_tensors(archive)
                except TorchScriptError as error:
                    raise CheckpointError(f"{path}: not a readable TorchScript archive ({error})") from None
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        if refused:
            raise CheckpointError(
                f"{path}: torch.load(weights_only=True) refuses to unpickle {refused.group(1)} (a pickled full model?); "
                "save the weights with torch.save(model.state_dict(), path) and analyse that file"
            ) from None
        raise CheckpointError(f"{path}: not a readable torch checkpoint (weights-only unpickling failed)") from None
    if not isinstance(loaded, Mapping):
        raise CheckpointError(f"{path}: expected a state_dict (a mapping of names to tensors), got {type(loaded).__name__}")
    return dict(_flatten(loaded, ""))


def _check_records(archive: zipfile.ZipFile, path: Path) -> None:
    """Every record passes its CRC-32 check and none is flagged a directory.

    torch's zip reader does not verify CRCs, and it reads a record whose MS-DOS attributes
    say "directory" as other bytes than the stored ones: either would give wrong numbers.
    """
    damaged = archive.testzip()
    if damaged is not None:
        raise CheckpointError(f"{path}: record {damaged} fails its CRC-32 check (the file is damaged)")
    flagged = [info.filename for info in archive.infolist() if info.external_attr & MSDOS_DIRECTORY]
    if flagged:
        raise CheckpointError(f"{path}: record {flagged[0]} is flagged as a directory (the file is damaged)")


def _flatten(mapping: Mapping[Any, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__

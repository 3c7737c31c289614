"""The tensors of a TorchScript archive (``torch.jit.save``), read without running any of its code.

A TorchScript archive is a zip file whose records lie in one top-level folder: ``code/`` (the
model's TorchScript source), ``data.pkl`` (the pickled module state), ``data/<key>`` (the raw
bytes of each tensor storage), ``constants.pkl``, ``version`` and ``byteorder``.
``torch.jit.load`` compiles and runs the archive's code, a custom ``__setstate__`` included, so
a crafted archive can do whatever TorchScript can (``torch.from_file(path, True, n)`` creates
files). Nothing here executes it: ``data.pkl`` is read by an unpickler that resolves only

* ``__torch__.*`` classes, to inert records of their pickled state (the archive's
  ``__setstate__`` is never called),
* ``torch._utils._rebuild_tensor_v2`` and the ``torch.<Type>Storage`` markers, to tensor
  descriptions (storage record, dtype, offset, size, stride),
* ``collections.OrderedDict`` and the identity helpers of ``torch.jit._pickle``;

every other global is refused. Each tensor is then built from its ``data/<key>`` record, which
must be stored uncompressed with exactly the byte count of its storage, as a strided view whose
extent is checked against that storage. ``code/`` and ``constants.pkl`` are never read.

The tensors are named by their attribute path in the saved state (``layer.weight``; members
of lists, tuples and dicts by index or key; a module, list or dict reached a second time is not
expanded again). For modules without a custom ``__getstate__`` these
are the names and the order of ``torch.jit.load(path).state_dict()``, plus any tensor attribute
that is neither a parameter nor a buffer; a module with a custom ``__getstate__`` saves what that
returned, so its tensors are named by position in it (``encoder.1``).
"""

from __future__ import annotations

import io
import pickle
import sys
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["TorchScriptError", "is_torchscript", "read_tensors"]

#: ``torch.<name>`` storage markers of the TorchScript pickler (``<ScalarType>Storage``)
STORAGE_DTYPES: dict[str, torch.dtype] = {
    "DoubleStorage": torch.float64,
    "FloatStorage": torch.float32,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "Float8_e4m3fnStorage": torch.float8_e4m3fn,
    "Float8_e4m3fnuzStorage": torch.float8_e4m3fnuz,
    "Float8_e5m2Storage": torch.float8_e5m2,
    "Float8_e5m2fnuzStorage": torch.float8_e5m2fnuz,
    "ComplexDoubleStorage": torch.complex128,
    "ComplexFloatStorage": torch.complex64,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "UInt16Storage": torch.uint16,
    "UInt32Storage": torch.uint32,
    "UInt64Storage": torch.uint64,
    "BoolStorage": torch.bool,
}


class TorchScriptError(ValueError):
    """The archive does not hold what ``torch.jit.save`` writes."""


class _ScriptObject:
    """An object of a ``__torch__`` class of the archive: only its pickled state is kept."""

    state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: torch.dtype
    numel: int


@dataclass(frozen=True)
class _TensorRecord:
    storage: Any
    offset: Any
    size: Any
    stride: Any


def _tensor_record(storage: Any, offset: Any, size: Any, stride: Any, *_flags: Any) -> _TensorRecord:
    """Stands for ``torch._utils._rebuild_tensor_v2``; requires_grad, hooks and metadata are dropped."""
    return _TensorRecord(storage, offset, size, stride)


def _same(value: Any, *_type_tag: Any) -> Any:
    """Stands for the helpers of ``torch.jit._pickle``, which return their first argument."""
    return value


_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _tensor_record,
    ("collections", "OrderedDict"): OrderedDict,
    **{("torch.jit._pickle", name): _same for name in ("restore_type_tag", "build_intlist", "build_tensorlist", "build_doublelist", "build_boollist")},
    **{("torch", name): dtype for name, dtype in STORAGE_DTYPES.items()},
}


class _StateUnpickler(pickle.Unpickler):
    """Unpickles ``data.pkl`` into plain containers, :class:`_ScriptObject` and :class:`_TensorRecord`."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            return _ScriptObject
        if (module, name) in _GLOBALS:
            return _GLOBALS[(module, name)]
        raise TorchScriptError(f"data.pkl refers to {module}.{name}; only tensors and module state are read")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (
            isinstance(pid, tuple)
            and len(pid) == 5
            and pid[0] == "storage"
            and isinstance(pid[1], torch.dtype)
            and type(pid[2]) is str
            and type(pid[4]) is int
            and pid[4] >= 0
        ):
            raise TorchScriptError(f"data.pkl has a malformed storage reference {str(pid)[:80]}")
        return _Storage(pid[2], pid[1], pid[4])


def is_torchscript(archive: zipfile.ZipFile) -> bool:
    """Whether ``archive`` is TorchScript: serialised code under ``<archive>/code/`` or a ``constants.pkl``."""
    return any("/code/" in name or name.endswith("/constants.pkl") for name in archive.namelist())


def read_tensors(archive: zipfile.ZipFile) -> dict[str, torch.Tensor]:
    """Name -> tensor for every tensor of the archive's saved module state, in pickle order."""
    pickles = [name for name in archive.namelist() if name.count("/") == 1 and name.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise TorchScriptError(f"expected one <archive>/data.pkl record, found {len(pickles)}")
    folder = pickles[0][: -len("data.pkl")]
    order = _read_record(archive, f"{folder}byteorder", None) if f"{folder}byteorder" in archive.namelist() else b"little"
    if order.decode(errors="replace") != sys.byteorder:
        raise TorchScriptError(f"written with byte order {order[:16]!r}, this machine is {sys.byteorder}-endian")
    state = _StateUnpickler(io.BytesIO(_read_record(archive, pickles[0], None))).load()
    storages: dict[str, tuple[_Storage, torch.Tensor]] = {}
    return {name: _tensor(record, archive, folder, storages) for name, record in _records(state, "", set())}


def _read_record(archive: zipfile.ZipFile, name: str, size: int | None) -> bytes:
    """Record ``name``, which must be stored uncompressed (as torch writes it) and of ``size`` bytes if given."""
    if name not in archive.NameToInfo:
        raise TorchScriptError(f"record {name} is missing")
    info = archive.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        raise TorchScriptError(f"record {name} is compressed; torch stores records uncompressed")
    if size is not None and info.file_size != size:
        raise TorchScriptError(f"record {name} has {info.file_size} bytes, its storage needs {size}")
    return archive.read(info)


def _records(value: Any, name: str, expanded: set[int]) -> Iterator[tuple[str, _TensorRecord]]:
    """(name, record) of every tensor reachable from ``value``, expanding each container once.

    A tensor referenced twice (tied weights) is named twice; a container reached again (a
    shared submodule, or a cycle) is not expanded again, so the walk is linear in the pickle.
    """
    if isinstance(value, _TensorRecord):
        yield name, value
        return
    if isinstance(value, _ScriptObject):
        members: Any = [(None, value.state)]
    elif isinstance(value, dict):
        members = value.items()
    elif isinstance(value, (list, tuple)):
        members = enumerate(value)
    else:
        return
    if id(value) in expanded:
        return
    expanded.add(id(value))
    for key, member in members:
        yield from _records(member, name if key is None else f"{name}.{key}" if name else str(key), expanded)


def _tensor(record: _TensorRecord, archive: zipfile.ZipFile, folder: str, storages: dict[str, tuple[_Storage, torch.Tensor]]) -> torch.Tensor:
    """The strided view of ``record`` into its storage, read from ``data/<key>`` once per key."""
    storage, offset, size, stride = record.storage, record.offset, record.size, record.stride
    if not (
        isinstance(storage, _Storage)
        and _is_index(offset)
        and isinstance(size, tuple)
        and isinstance(stride, tuple)
        and len(size) == len(stride)
        and all(map(_is_index, size + stride))
    ):
        raise TorchScriptError(f"malformed tensor record {str(record)[:120]}")
    if storage.key not in storages:
        data = bytearray(_read_record(archive, f"{folder}data/{storage.key}", storage.numel * storage.dtype.itemsize))
        storages[storage.key] = (storage, torch.frombuffer(data, dtype=storage.dtype) if data else torch.empty(0, dtype=storage.dtype))
    known, flat = storages[storage.key]
    if known != storage:
        raise TorchScriptError(f"storage {storage.key} is declared as {known} and as {storage}")
    extent = 0 if 0 in size else offset + 1 + sum((length - 1) * step for length, step in zip(size, stride))
    if extent > storage.numel:
        raise TorchScriptError(f"tensor of size {size}, stride {stride}, offset {offset} exceeds its storage of {storage.numel} elements")
    return torch.as_strided(flat, size, stride, offset)


def _is_index(value: Any) -> bool:
    return type(value) is int and value >= 0

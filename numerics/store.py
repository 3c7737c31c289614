"""A results store on disk: one file per entry, named by a content hash, checksummed, written atomically.

Layout under the root directory: ``runs/<key>.entry`` (finished runs) and
``checkpoints/<key>.entry`` (in-progress groups). An entry holds plain data: ``None``, bools,
ints, floats, strings, lists, tuples, dicts and NumPy arrays and scalars, nested. Its file is
one header line ``rankbound-store v2 sha256=<hex>`` followed by the payload: the data as one
line of JSON, a newline, and an uncompressed ``.npz`` archive of the arrays. In the JSON every
object is a node with a single tag:

* ``{"array": "a3"}``: the ndarray stored as member ``a3`` of the archive;
* ``{"scalar": "a4"}``: a NumPy scalar, stored as a 0-d array (its dtype is kept);
* ``{"float": "7ff8000000000000"}``: a non-finite float, by its IEEE 754 bits;
* ``{"tuple": [...]}``, ``{"dict": {...}}`` (string keys) and ``{"items": [[k, v], ...]}``
  (any other keys).

Finite floats are JSON numbers (``repr`` round-trips exactly), lists are JSON arrays, and the
other scalars are themselves, so an entry reads back equal in value and type, floats bit for
bit, arrays bit for bit in dtype (byte order included) and shape (Fortran order kept, other
strided views read back C-contiguous). Reading executes nothing: the JSON is parsed strictly
and the arrays are loaded with ``allow_pickle=False``.

The sha256 covers the payload and is verified before the payload is parsed. Writes go to a
temporary file in the same directory, are fsync'ed, then ``os.replace``'d over the target and
the directory is fsync'ed, so a reader sees either the old entry or the new one, never a torn
file. An entry that cannot be read (checksum mismatch, malformed payload, an older format, a
directory in its place, or data of another layout than the caller expects) is reported with a
:class:`CorruptEntryWarning`, renamed to ``<key>.corrupt`` (kept for inspection) and treated as
missing, so the caller recomputes it. Entries of the v1 format (``<key>.joblib``, a pickle)
are never loaded, since unpickling can run arbitrary code: they are reported and recomputed.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = b"rankbound-store v2"
HEADER_PREFIX = FORMAT + b" sha256="
SUFFIX = ".entry"
#: how a zip archive (``.npz``) begins: a member, or the end record of an empty archive
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: suffix of the v1 entries, pickles that are never loaded
LEGACY_SUFFIX = ".joblib"
RUNS = "runs"
CHECKPOINTS = "checkpoints"
SECTIONS = (RUNS, CHECKPOINTS)

#: what a caller expects an entry to hold: a type (``isinstance``), ``{name: layout}`` (a dict
#: with at least these keys) or ``{str: layout}`` (a dict of string keys, every value alike)
Layout = type | Mapping[Any, "Layout"]


class CorruptEntryWarning(UserWarning):
    """A store entry failed its checksum or could not be read; it will be recomputed."""


def content_key(obj: Any) -> str:
    """sha256 hex of ``obj``'s canonical JSON (sorted keys, no spaces): equal content, equal key."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _to_tree(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """``obj`` as a JSON-ready tree; arrays are moved to ``arrays`` and referenced by name."""
    kind = type(obj)
    if obj is None or kind in (bool, int, str):
        return obj
    if kind is float:
        return obj if math.isfinite(obj) else {"float": struct.pack(">d", obj).hex()}
    if kind is np.ndarray or isinstance(obj, np.generic):
        if obj.dtype.hasobject:
            raise TypeError(f"store: {where} is an array of Python objects ({obj.dtype}), which is not stored")
        name = f"a{len(arrays)}"
        arrays[name] = obj if kind is np.ndarray else np.array(obj)
        return {"array" if kind is np.ndarray else "scalar": name}
    if kind is list:
        return [_to_tree(item, arrays, f"{where}[{index}]") for index, item in enumerate(obj)]
    if kind is tuple:
        return {"tuple": [_to_tree(item, arrays, f"{where}[{index}]") for index, item in enumerate(obj)]}
    if kind is dict:
        if all(type(key) is str for key in obj):
            return {"dict": {key: _to_tree(value, arrays, f"{where}[{key!r}]") for key, value in obj.items()}}
        return {"items": [[_to_tree(key, arrays, f"{where} key"), _to_tree(value, arrays, f"{where}[{key!r}]")] for key, value in obj.items()]}
    raise TypeError(f"store: {where} is a {kind.__module__}.{kind.__qualname__}; entries hold None, bool, int, float, str, list, tuple, dict and NumPy arrays or scalars")


def _from_tree(tree: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`_to_tree`; raises ValueError on anything :func:`_to_tree` does not write."""
    if tree is None or type(tree) in (bool, int, float, str):
        return tree
    if type(tree) is list:
        return [_from_tree(item, arrays) for item in tree]
    if type(tree) is not dict or len(tree) != 1:
        raise ValueError(f"malformed node {str(tree)[:60]}")
    ((tag, body),) = tree.items()
    if tag == "float" and type(body) is str and len(body) == 16:
        return struct.unpack(">d", bytes.fromhex(body))[0]
    if tag in ("array", "scalar") and type(body) is str and body in arrays:
        return arrays[body] if tag == "array" else arrays[body][()]
    if tag == "tuple" and type(body) is list:
        return tuple(_from_tree(item, arrays) for item in body)
    if tag == "dict" and type(body) is dict:
        return {key: _from_tree(value, arrays) for key, value in body.items()}
    if tag == "items" and type(body) is list and all(type(pair) is list and len(pair) == 2 for pair in body):
        return {_from_tree(key, arrays): _from_tree(value, arrays) for key, value in body}
    raise ValueError(f"malformed node {str(tree)[:60]}")


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def _encode(obj: Any) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    tree = json.dumps(_to_tree(obj, arrays, "entry"), separators=(",", ":"), allow_nan=False)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    payload = tree.encode() + b"\n" + buffer.getvalue()
    return HEADER_PREFIX + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def _decode(raw: bytes) -> Any:
    header, newline, payload = raw.partition(b"\n")
    if not newline or not header.startswith(b"rankbound-store "):
        raise ValueError("missing store header")
    if not header.startswith(HEADER_PREFIX):
        version = header.split(b" ")[1].decode(errors="replace")
        raise ValueError(f"store format {version}, not {FORMAT.decode()} (v1 entries are pickles, never loaded)")
    expected = header[len(HEADER_PREFIX) :].decode(errors="replace")
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise ValueError(f"sha256 {actual} != recorded {expected}")
    tree, newline, archive = payload.partition(b"\n")
    if not newline or archive[:4] not in ZIP_MAGIC:
        raise ValueError("payload without its .npz array archive")
    with np.load(io.BytesIO(archive), allow_pickle=False) as members:
        arrays = {name: members[name] for name in members.files}
    return _from_tree(json.loads(tree, parse_constant=_reject_constant), arrays)


def _layout_problem(obj: Any, layout: Layout, where: str = "entry") -> str | None:
    """Where ``obj`` departs from ``layout`` (see :data:`Layout`), or None when it conforms."""
    if isinstance(layout, type):
        return None if isinstance(obj, layout) else f"{where} is {type(obj).__name__}, expected {layout.__name__}"
    if not isinstance(obj, dict):
        return f"{where} is {type(obj).__name__}, expected dict"
    if str in layout:
        checks = [(key, layout[str]) for key in obj]
        if not all(isinstance(key, str) for key in obj):
            return f"{where} has a key that is not a string"
    else:
        missing = [key for key in layout if key not in obj]
        if missing:
            return f"{where} lacks {missing[0]!r}"
        checks = list(layout.items())
    for key, inner in checks:
        problem = _layout_problem(obj[key], inner, f"{where}[{key!r}]")
        if problem is not None:
            return problem
    return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsync'ed temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _set_aside(path: Path) -> Path:
    """Rename a bad entry to ``<key>.corrupt``, or ``<key>.<n>.corrupt`` when that name is taken."""
    target, copies = path.with_suffix(".corrupt"), 0
    while target.exists() or target.is_symlink():
        copies += 1
        target = path.with_name(f"{path.stem}.{copies}.corrupt")
    try:
        path.rename(target)
    except FileNotFoundError:  # another reader moved it first
        pass
    return target


def _set_aside_unreadable(path: Path, reason: str) -> None:
    """Warn that the entry at ``path`` is unreadable and rename it ``*.corrupt``; the caller recomputes it."""
    moved = _set_aside(path)
    warnings.warn(
        f"results store entry {path} is corrupt ({reason}); moved to {moved.name}, recomputing",
        CorruptEntryWarning,
        stacklevel=3,
    )


class ResultStore:
    """Entries under ``root`` in the sections ``runs`` and ``checkpoints``, addressed by key."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, section: str, key: str) -> Path:
        if section not in SECTIONS:
            raise ValueError(f"section={section!r} violates section in {SECTIONS}")
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"key={key!r} violates: a lowercase hex digest")
        return self.root / section / f"{key}{SUFFIX}"

    def save(self, section: str, key: str, obj: Any) -> Path:
        """Store ``obj`` (plain data, see the module docstring) atomically; returns its path."""
        path = self.path(section, key)
        write_atomic(path, _encode(obj))
        return path

    def load(self, section: str, key: str, layout: Layout = object) -> Any | None:
        """The stored object, or None when absent or unreadable (then warned and renamed ``*.corrupt``).

        ``layout``: what the caller expects (:data:`Layout`); an entry of another layout is
        unreadable like a corrupt one.
        """
        path = self.path(section, key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            legacy = path.with_suffix(LEGACY_SUFFIX)
            if legacy.exists():
                warnings.warn(
                    f"results store entry {legacy} has the v1 format, a pickle, which is never loaded "
                    "(unpickling can run code); recomputing it (the old file can be deleted)",
                    CorruptEntryWarning,
                    stacklevel=2,
                )
            return None
        except OSError as error:
            return _set_aside_unreadable(path, error.strerror or str(error))
        try:
            obj = _decode(raw)
        except Exception as error:  # any unreadable entry is recomputed, never trusted
            return _set_aside_unreadable(path, str(error))
        problem = _layout_problem(obj, layout)
        return obj if problem is None else _set_aside_unreadable(path, problem)

    def discard(self, section: str, key: str) -> None:
        self.path(section, key).unlink(missing_ok=True)

    def keys(self, section: str = RUNS) -> list[str]:
        """Keys present in ``section`` (not verified; :meth:`load` verifies)."""
        directory = self.root / section
        return sorted(path.stem for path in directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []

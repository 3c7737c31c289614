"""Hostile checkpoints for ``rankbound analyze``: nothing in a file is executed, damage is named.

Every hostile file is generated here: a TorchScript module whose ``__setstate__`` creates a
marker file through ``torch.from_file``, archives whose ``data.pkl`` calls arbitrary globals or
describes tensors outside their storage, and bit flips of saved checkpoints.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from numerics.measures.checkpoint import CheckpointError, named_values
from rankbound.cli import cli

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


class Trap(torch.nn.Module):
    """Its TorchScript ``__setstate__``, run by ``torch.jit.load``, creates the file ``marker``."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.weight = torch.nn.Parameter(torch.arange(12.0).reshape(4, 3))

    @torch.jit.export
    def __getstate__(self) -> tuple[str, torch.Tensor, bool]:
        return (self.marker, self.weight, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, torch.Tensor, bool]) -> None:
        self.marker = state[0]
        self.weight = state[1] + 0 * torch.from_file(self.marker, True, 12).view(4, 3)
        self.training = state[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight


class Model(torch.nn.Module):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self.trap = Trap(marker)
        self.head = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trap(x))


def test_a_torchscript_archive_is_analysed_without_running_its_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    archive = tmp_path / "trap.pt"
    model = Model(str(marker))
    torch.jit.save(torch.jit.script(model), archive)
    result = CliRunner().invoke(cli, ["analyze", str(archive), "--json"])
    assert result.exit_code == 0, result.stderr
    assert not marker.exists()
    assert "trap.1" in result.stdout and "head.weight" in result.stdout
    values = named_values(archive)
    assert list(values) == ["trap.1", "head.weight", "head.bias"]
    assert torch.equal(values["trap.1"], model.trap.weight.detach()) and torch.equal(values["head.bias"], model.head.bias.detach())
    assert not marker.exists()
    torch.jit.load(str(archive))  # the control: torch.jit.load does run the archive's code
    assert marker.exists()


class Viewed(torch.nn.Module):
    """Tensors that are transposed, offset and shared views, in several dtypes."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.transposed = torch.nn.Parameter(torch.randn(5, 3, dtype=torch.float64).t())
        base = torch.randn(6, 4)
        self.register_buffer("base", base)
        self.register_buffer("rows", base[2:5])
        self.register_buffer("halves", torch.randn(3, 3).half())
        self.register_buffer("brain_float", torch.randn(2, 3).bfloat16())
        self.register_buffer("counts", torch.arange(4))
        self.register_buffer("empty", torch.zeros(0, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_torchscript_tensors_equal_the_loaded_state_dict(tmp_path: Path) -> None:
    archive = tmp_path / "viewed.pt"
    torch.jit.save(torch.jit.script(Viewed()), archive)
    reference = torch.jit.load(str(archive)).state_dict()  # a benign archive of our own
    values = named_values(archive)
    assert list(values) == list(reference)
    for name, tensor in reference.items():
        assert values[name].dtype == tensor.dtype and values[name].shape == tensor.shape and values[name].stride() == tensor.stride()
        assert torch.equal(values[name], tensor), name
    assert values["rows"].untyped_storage().data_ptr() == values["base"].untyped_storage().data_ptr()


class Call:
    """Pickles as a call of ``function(*args)``."""

    def __init__(self, function: Any, *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.function, self.args


class Storage:
    """Pickles as the persistent id of a TorchScript storage record."""

    def __init__(self, key: str, storage_type: Any, numel: int) -> None:
        self.id = ("storage", storage_type, key, "cpu", numel)


class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        return obj.id if isinstance(obj, Storage) else None


def tensor(storage: Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> Call:
    return Call(torch._utils._rebuild_tensor_v2, storage, offset, size, stride, False, OrderedDict())


def write_archive(path: Path, state: Any, records: dict[str, bytes], byteorder: bytes = b"little") -> Path:
    """A TorchScript-shaped archive: ``data.pkl`` pickles ``state``; ``records`` are the storages."""
    buffer = io.BytesIO()
    StoragePickler(buffer, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        archive.writestr("archive/code/__torch__.py", "def forward(self):\n  return None\n")
        archive.writestr("archive/constants.pkl", pickle.dumps(()))
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/byteorder", byteorder)
        for key, data in records.items():
            archive.writestr(f"archive/data/{key}", data)
    return path


FLOATS = torch.arange(6.0).numpy().tobytes()


def test_an_archive_that_reads_back_gives_its_tensor(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "ok.pt", {"w": tensor(Storage("0", torch.FloatStorage, 6), 1, (2, 2), (1, 2))}, {"0": FLOATS})
    assert torch.equal(named_values(path)["w"], torch.tensor([[1.0, 3.0], [2.0, 4.0]]))


def test_shared_and_cyclic_containers_are_walked_once(tmp_path: Path) -> None:
    """A tied tensor is named at each place; 2**200 paths through shared lists and a cycle do not hang."""
    weight = tensor(Storage("0", torch.FloatStorage, 6), 0, (2, 3), (3, 1))
    doubling: list[Any] = [weight]
    for _ in range(200):
        doubling = [doubling, doubling]
    cycle: list[Any] = [weight]
    cycle.append(cycle)
    path = write_archive(tmp_path / "shared.pt", {"w": weight, "tied": weight, "doubling": doubling, "cycle": cycle}, {"0": FLOATS})
    values = named_values(path)
    assert list(values) == ["w", "tied", "doubling" + ".0" * 200 + ".0", "cycle.0"]
    assert all(torch.equal(value, torch.arange(6.0).reshape(2, 3)) for value in values.values())


@pytest.mark.parametrize(
    ("state", "records", "message"),
    [
        ({"w": Call(open, "{marker}", "w")}, {}, "refers to io.open"),
        ({"w": Call(os.system, "touch {marker}")}, {}, "refers to posix.system"),
        ({"w": Call(eval, "open({marker!r}, 'w')")}, {}, "eval; only tensors and module state are read"),
        ({"w": tensor(Storage("0", torch.FloatStorage, 6), 0, (3, 3), (3, 1))}, {"0": FLOATS}, "exceeds its storage of 6 elements"),
        ({"w": tensor(Storage("0", torch.FloatStorage, 6), 5, (2,), (1,))}, {"0": FLOATS}, "exceeds its storage"),
        ({"w": tensor(Storage("0", torch.FloatStorage, 6), -1, (2,), (1,))}, {"0": FLOATS}, "malformed tensor record"),
        ({"w": tensor(Storage("0", torch.FloatStorage, 6), 0, (2,), (-1,))}, {"0": FLOATS}, "malformed tensor record"),
        ({"w": tensor(Storage("0", torch.FloatStorage, 8), 0, (2,), (1,))}, {"0": FLOATS}, "has 24 bytes, its storage needs 32"),
        ({"w": tensor(Storage("1", torch.FloatStorage, 6), 0, (2,), (1,))}, {"0": FLOATS}, "record archive/data/1 is missing"),
        (
            {"w": tensor(Storage("0", torch.FloatStorage, 6), 0, (2,), (1,)), "v": tensor(Storage("0", torch.IntStorage, 6), 0, (2,), (1,))},
            {"0": FLOATS},
            "is declared as",
        ),
        ({"w": tensor(Storage("0", torch.QInt8Storage, 6), 0, (2,), (1,))}, {"0": FLOATS}, "torch.QInt8Storage"),
    ],
)
def test_a_hostile_archive_gets_one_line_and_runs_nothing(tmp_path: Path, state: dict[str, Any], records: dict[str, bytes], message: str) -> None:
    marker = tmp_path / "marker"
    for value in state.values():
        if isinstance(value, Call) and isinstance(value.args[0], str):
            value.args = (value.args[0].format(marker=str(marker)), *value.args[1:])
    path = write_archive(tmp_path / "hostile.pt", state, records)
    result = CliRunner().invoke(cli, ["analyze", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr and message in result.stderr, result.stderr
    assert not marker.exists()


def test_a_compressed_or_foreign_endian_archive_is_refused(tmp_path: Path) -> None:
    state = {"w": tensor(Storage("0", torch.FloatStorage, 6), 0, (6,), (1,))}
    big = write_archive(tmp_path / "big.pt", state, {"0": FLOATS}, byteorder=b"big")
    with pytest.raises(CheckpointError, match="byte order b'big'"):
        named_values(big)
    plain = write_archive(tmp_path / "plain.pt", state, {"0": FLOATS})
    squeezed = tmp_path / "squeezed.pt"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(squeezed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    with pytest.raises(CheckpointError, match="record archive/byteorder is compressed"):
        named_values(squeezed)


@pytest.mark.parametrize("kind", ["state_dict", "torchscript"])
def test_bit_flips_give_the_same_tensors_or_an_error_naming_the_file(tmp_path: Path, kind: str) -> None:
    """Every single-bit flip (one bit position per byte, cycling) of a small checkpoint."""
    saved = tmp_path / "saved.pt"
    model = torch.nn.Linear(3, 2)
    torch.save(model.state_dict(), saved) if kind == "state_dict" else torch.jit.save(torch.jit.script(model), saved)
    reference = named_values(saved)
    raw = saved.read_bytes()
    flipped = tmp_path / "flipped.pt"
    outcomes = {"same": 0, "error": 0}
    for position in range(len(raw)):
        damaged = bytearray(raw)
        damaged[position] ^= 1 << (position % 8)
        flipped.write_bytes(damaged)
        try:
            values = named_values(flipped)
        except CheckpointError as error:
            assert str(flipped) in str(error) and "\n" not in str(error), (position, str(error))
            outcomes["error"] += 1
            continue
        assert list(values) == list(reference), position
        assert all(values[name].dtype == tensor.dtype and torch.equal(values[name], tensor) for name, tensor in reference.items()), position
        outcomes["same"] += 1
    assert outcomes["error"] > len(raw) // 4 and outcomes["same"] > 0


def test_every_record_flagged_a_directory_is_refused(tmp_path: Path) -> None:
    """torch's zip reader returns other bytes for a record whose MS-DOS attributes say directory."""
    saved = tmp_path / "saved.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), saved)
    flagged = tmp_path / "flagged.pt"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(flagged, "w") as target:
        for info in source.infolist():
            if info.filename.endswith("data/0"):
                info.external_attr |= 0x10
            target.writestr(info, source.read(info))
    with pytest.raises(CheckpointError, match=r"flagged.pt: record .*data/0 is flagged as a directory"):
        named_values(flagged)


def test_a_directory_or_a_fifo_is_named_as_such(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path)])
    assert result.exit_code == 2 and f"{tmp_path}: is a directory" in result.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="pipe: not a regular file"):
        named_values(fifo)
    with pytest.raises(CheckpointError, match="File name too long"):
        named_values(tmp_path / ("x" * 300))
    with pytest.raises(CheckpointError, match="embedded null byte"):
        named_values("model\0.pt")

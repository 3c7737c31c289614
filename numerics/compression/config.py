"""Presets of ``rankbound bound compress``: a TOML file with the architecture, the training and delta.

::

    delta = "0.05"          # failure probability of the bound (exact: a decimal string or a number)
    train_size = 60000      # the first train_size images of the MNIST training set are the sample
    [architecture]          # numerics.compression.network.Architecture
    crop = 2
    pool = 2
    widths = [32]
    ranks = [10, 0]         # one per layer; 0 = dense
    weight_levels = 4
    [training]              # numerics.compression.training.Training
    epochs = 20
    qat_epochs = 10
    weight_decay = 1e-4

Omitted fields take the dataclasses' defaults. Shipped presets: ``quick`` (the full training
set; the bound of the report) and ``ci`` (a small real run for the tests); any other argument
is read as a file path. Every problem is one ``ValueError`` naming the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from numerics.compression.network import Architecture
from numerics.compression.training import Training

SHIPPED = ("quick", "ci")
MNIST_TRAIN_SIZE = 60000
TOP_LEVEL = ("delta", "train_size", "architecture", "training")


@dataclass(frozen=True)
class CompressionConfig:
    """What ``rankbound bound compress`` trains, encodes and bounds."""

    name: str
    architecture: Architecture
    training: Training
    delta: Fraction = Fraction(1, 20)
    train_size: int = MNIST_TRAIN_SIZE
    origin: str = "shipped"

    def __post_init__(self) -> None:
        if not 0 < self.delta < 1:
            raise ValueError(f"delta={self.delta}: must satisfy 0 < delta < 1")
        if not 1 <= self.train_size <= MNIST_TRAIN_SIZE:
            raise ValueError(f"train_size={self.train_size}: must satisfy 1 <= train_size <= {MNIST_TRAIN_SIZE}")

    def to_json(self) -> dict[str, object]:
        """The content that determines the trained network (the results-store key)."""
        return {
            "architecture": self.architecture.to_json(),
            "training": self.training.to_json(),
            "train_size": self.train_size,
        }


def _build(cls: type, table: Any, where: str) -> Any:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table")
    fields = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(fields))})")
    for key, value in table.items():
        default = next(field.default for field in dataclasses.fields(cls) if field.name == key)
        expected = type(default)
        if expected is tuple:
            if not isinstance(value, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
                raise ValueError(f"{where}.{key}={value!r}: expected a list of integers")
        elif expected is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{where}.{key}={value!r}: expected a number")
        elif expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{where}.{key}={value!r}: expected an integer")
        elif expected is bool and not isinstance(value, bool):
            raise ValueError(f"{where}.{key}={value!r}: expected true or false")
    try:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in table.items()})
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def parse_config(document: dict[str, Any], name: str, origin: str) -> CompressionConfig:
    unknown = sorted(set(document) - set(TOP_LEVEL))
    if unknown:
        raise ValueError(f"preset {origin}: unknown key {unknown[0]!r} (known: {', '.join(TOP_LEVEL)})")
    architecture = _build(Architecture, document.get("architecture", {}), "architecture")
    training = _build(Training, document.get("training", {}), "training")
    raw_delta = document.get("delta", "0.05")
    if isinstance(raw_delta, bool) or not isinstance(raw_delta, (str, int, float)):
        raise ValueError(f"delta={raw_delta!r}: expected a number such as \"0.05\"")
    try:
        delta = Fraction(str(raw_delta))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"delta={raw_delta!r}: not a number") from None
    train_size = document.get("train_size", MNIST_TRAIN_SIZE)
    if isinstance(train_size, bool) or not isinstance(train_size, int):
        raise ValueError(f"train_size={train_size!r}: expected an integer")
    return CompressionConfig(name, architecture, training, delta, train_size, origin)


def load_config(name_or_path: str | Path) -> CompressionConfig:
    """A shipped preset (``quick``, ``ci``) or a TOML file; ``ValueError`` naming what is wrong."""
    if str(name_or_path) in SHIPPED:
        resource = resources.files("numerics.compression") / "presets" / f"{name_or_path}.toml"
        text, origin, name = resource.read_text(encoding="utf-8"), "shipped", str(name_or_path)
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ValueError(f"preset={str(name_or_path)!r}: not a shipped preset ({', '.join(SHIPPED)}) nor an existing TOML file")
        text, origin, name = path.read_text(encoding="utf-8"), str(path), path.stem
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"preset {origin}: not valid TOML: {error}") from None
    return parse_config(document, name, origin)

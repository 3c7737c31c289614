"""The prefix-free code of quantised low-rank networks: :func:`encode` and :func:`decode`.

A message is the concatenation of

1. the **configuration** (the union bound over architectures): Elias gamma codes of
   ``crop + 1``, ``log2(pool) + 1``, the number of hidden layers + 1, each hidden width, each
   layer's ``rank + 1`` (0: dense), one bit each for ``bias`` and ``output_bias``, and the gamma
   codes of ``weight_levels``, ``bias_levels`` and ``mantissa_bits``;
2. the **codebooks**, one per tensor in :meth:`Architecture.tensors` order: the exponent
   (signed gamma code) and every mantissa as a sign bit and ``mantissa_bits`` magnitude bits;
3. every tensor's **level indices**, row-major, arithmetic-coded
   (:mod:`numerics.compression.arithmetic`) under the adaptive KT model. The first layer's input
   tensor (``U`` or ``W``, one row per input pixel) is coded in the context of the levels of the
   same column at the pixel's left and upper neighbours in the image grid: each column is a
   filter over the image, and its neighbouring entries are alike (about a fifth shorter on the
   trained networks than one context). Every other tensor has one context.

Each field is prefix-free given the fields before it (the shapes and alphabets the later
fields need follow from the configuration), so the whole code is prefix-free and its lengths
satisfy Kraft's inequality: ``2^-L`` is a valid prior over networks, fixed before any data is
seen. The message length ``L`` is the number of bits actually written, counted per part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.compression import arithmetic
from numerics.compression.bits import (
    BitReader,
    BitWriter,
    MessageError,
    read_fixed,
    read_gamma,
    read_signed,
    write_fixed,
    write_gamma,
    write_signed,
)
from numerics.compression.network import Architecture, QuantisedNetwork, QuantisedTensor
from numerics.compression.quantise import Codebook

#: a decoder refuses larger hidden layers (a guard against corrupt messages, not a limit in use)
MAX_WIDTH = 1 << 16


@dataclass(frozen=True)
class Message:
    """The bits of an encoded network and how many of them each part took."""

    bits: str
    parts: dict[str, int]

    @property
    def length(self) -> int:
        return len(self.bits)


def _write_configuration(writer: BitWriter, architecture: Architecture) -> None:
    write_gamma(writer, architecture.crop + 1)
    write_gamma(writer, architecture.pool.bit_length())
    write_gamma(writer, len(architecture.widths) + 1)
    for width in architecture.widths:
        write_gamma(writer, width)
    for rank in architecture.ranks:
        write_gamma(writer, rank + 1)
    write_fixed(writer, int(architecture.bias), 1)
    write_fixed(writer, int(architecture.output_bias), 1)
    write_gamma(writer, architecture.weight_levels)
    write_gamma(writer, architecture.bias_levels)
    write_gamma(writer, architecture.mantissa_bits)


def _read_configuration(reader: BitReader) -> Architecture:
    crop = read_gamma(reader) - 1
    pool = 1 << (read_gamma(reader) - 1)
    hidden = read_gamma(reader) - 1
    widths = tuple(read_gamma(reader) for _ in range(hidden))
    if any(width > MAX_WIDTH for width in widths):
        raise MessageError(f"a hidden width above {MAX_WIDTH}")
    ranks = tuple(read_gamma(reader) - 1 for _ in range(hidden + 1))
    bias, output_bias = bool(read_fixed(reader, 1)), bool(read_fixed(reader, 1))
    weight_levels, bias_levels, mantissa_bits = read_gamma(reader), read_gamma(reader), read_gamma(reader)
    try:
        return Architecture(crop, pool, widths, ranks, bias, output_bias, weight_levels, bias_levels, mantissa_bits)
    except ValueError as error:
        raise MessageError(f"the configuration is not an architecture: {error}") from None


def _write_codebook(writer: BitWriter, codebook: Codebook, mantissa_bits: int) -> None:
    write_signed(writer, codebook.exponent)
    for mantissa in codebook.mantissas:
        if abs(mantissa) >= 1 << mantissa_bits:
            raise ValueError(f"mantissa {mantissa} needs more than {mantissa_bits} bits")
        write_fixed(writer, int(mantissa < 0), 1)
        write_fixed(writer, abs(mantissa), mantissa_bits)


def _read_codebook(reader: BitReader, levels: int, mantissa_bits: int) -> Codebook:
    exponent = read_signed(reader)
    mantissas = []
    for _ in range(levels):
        negative = read_fixed(reader, 1)
        magnitude = read_fixed(reader, mantissa_bits)
        mantissas.append(-magnitude if negative else magnitude)
    return Codebook(tuple(mantissas), exponent)


def _context(architecture: Architecture, name: str, shape: tuple[int, ...]) -> arithmetic.Context:
    """The coding context of a tensor's entries (see the module docstring)."""
    if name != architecture.tensors()[0][0]:
        return arithmetic.single_context
    side, columns, levels = math.isqrt(architecture.inputs), shape[1], architecture.weight_levels

    def neighbours(position: int, previous: list[int]) -> int:
        y, x = divmod(position // columns, side)
        left = previous[position - columns] if x else levels
        up = previous[position - side * columns] if y else levels
        return left * (levels + 1) + up

    return neighbours


def encode(network: QuantisedNetwork) -> Message:
    """The message of ``network`` (see the module docstring), with its length per part."""
    architecture = network.architecture
    writer, parts = BitWriter(), {}
    _write_configuration(writer, architecture)
    parts["configuration"] = len(writer)
    specs = architecture.tensors()
    for name, _, _ in specs:
        _write_codebook(writer, network.tensors[name].codebook, architecture.mantissa_bits)
    parts["codebooks"] = len(writer) - parts["configuration"]
    for name, shape, kind in specs:
        symbols = network.tensors[name].indices.ravel().tolist()
        parts[name] = arithmetic.encode(symbols, architecture.levels(kind), writer, _context(architecture, name, shape))
    bits = writer.bits
    assert sum(parts.values()) == len(bits)
    return Message(bits, parts)


def decode(bits: str) -> QuantisedNetwork:
    """The network a message describes; :class:`MessageError` unless ``bits`` is exactly one message."""
    reader = BitReader(bits)
    architecture = _read_configuration(reader)
    specs = architecture.tensors()
    codebooks = {name: _read_codebook(reader, architecture.levels(kind), architecture.mantissa_bits) for name, _, kind in specs}
    tensors = {}
    for name, shape, kind in specs:
        count = int(np.prod(shape))
        indices = arithmetic.decode(reader, architecture.levels(kind), count, _context(architecture, name, shape))
        tensors[name] = QuantisedTensor(codebooks[name], np.array(indices, dtype=np.int64).reshape(shape))
    if not reader.exhausted:
        raise MessageError(f"{len(bits) - reader.position} bits left over after the message")
    return QuantisedNetwork(architecture, tensors)

"""Bit strings and the prefix-free integer codes of the message header.

A :class:`BitWriter` appends bits; a :class:`BitReader` reads them back and raises
:class:`MessageError` at the end of the string rather than inventing bits. The integer codes
are prefix-free, so fields can be concatenated without separators:

* :func:`write_gamma` — Elias' gamma code of ``n >= 1``: ``floor(log2 n)`` zeros, then ``n`` in
  binary (``2 floor(log2 n) + 1`` bits);
* :func:`write_signed` — an integer through the map ``0, -1, 1, -2, 2, ... -> 1, 2, 3, 4, 5, ...``
  (``v >= 0 -> 2v + 1``, ``v < 0 -> -2v``) and the gamma code;
* :func:`write_fixed` — ``width`` bits, most significant first (the width is known to the reader).
"""

from __future__ import annotations


class MessageError(ValueError):
    """A bit string is not a message of the code (too short, or a field out of range)."""


class BitWriter:
    """Bits appended in order; :attr:`bits` is their string of ``0``/``1`` characters."""

    def __init__(self) -> None:
        self._bits: list[str] = []

    def write_bits(self, bits: str) -> None:
        if bits.strip("01"):
            raise ValueError(f"bits={bits[:20]!r}: only 0 and 1 allowed")
        self._bits.append(bits)

    @property
    def bits(self) -> str:
        return "".join(self._bits)

    def __len__(self) -> int:
        return sum(len(part) for part in self._bits)


class BitReader:
    """Reads a string of ``0``/``1`` characters from the front."""

    def __init__(self, bits: str) -> None:
        if bits.strip("01"):
            raise MessageError("a message holds only the characters 0 and 1")
        self.bits = bits
        self.position = 0

    def read_bits(self, count: int) -> str:
        if self.position + count > len(self.bits):
            raise MessageError(f"the message ends after {len(self.bits)} bits; {count} more were needed at bit {self.position}")
        part = self.bits[self.position : self.position + count]
        self.position += count
        return part

    def rest(self) -> str:
        """The unread bits (not consumed)."""
        return self.bits[self.position :]

    def skip(self, count: int) -> None:
        self.read_bits(count)

    @property
    def exhausted(self) -> bool:
        return self.position == len(self.bits)


def write_fixed(writer: BitWriter, value: int, width: int) -> None:
    if not 0 <= value < (1 << width):
        raise ValueError(f"value={value}: must satisfy 0 <= value < 2^{width}")
    if width:
        writer.write_bits(format(value, f"0{width}b"))


def read_fixed(reader: BitReader, width: int) -> int:
    return int(reader.read_bits(width), 2) if width else 0


def write_gamma(writer: BitWriter, n: int) -> None:
    if n < 1:
        raise ValueError(f"n={n}: Elias' gamma code needs n >= 1")
    binary = format(n, "b")
    writer.write_bits("0" * (len(binary) - 1) + binary)


def read_gamma(reader: BitReader, limit: int = 64) -> int:
    """The next gamma-coded integer; ``limit`` caps its length in bits (a guard on corrupt input)."""
    zeros = 0
    while reader.read_bits(1) == "0":
        zeros += 1
        if zeros >= limit:
            raise MessageError(f"a gamma code longer than {limit} bits at bit {reader.position}")
    return int("1" + reader.read_bits(zeros), 2)


def gamma_length(n: int) -> int:
    """Bits of the gamma code of ``n >= 1``."""
    return 2 * (n.bit_length() - 1) + 1


def write_signed(writer: BitWriter, value: int) -> None:
    write_gamma(writer, 2 * value + 1 if value >= 0 else -2 * value)


def read_signed(reader: BitReader) -> int:
    code = read_gamma(reader)
    return (code - 1) // 2 if code % 2 else -(code // 2)

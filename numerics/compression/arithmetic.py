"""Exact arithmetic coding under an adaptive Krichevsky–Trofimov model.

A sequence ``s_1 .. s_n`` over the alphabet ``{0, .., K-1}`` gets the probability

.. math::

    P(s) = \\prod_i \\frac{2 n_{c_i}(s_i) + 1}{2 t_{c_i} + K}

where ``n_c(a)`` counts the earlier symbols ``a`` seen in context ``c`` and ``t_c`` all earlier
symbols in context ``c`` (the KT estimator: counts plus 1/2). The context ``c_i`` of position
``i`` is a function of ``i`` and of the symbols before it, so the decoder knows it too.

The sequence is cut into blocks of at most :data:`BLOCK` symbols (the model's counts carry
over). A block's probability is an exact rational and so is its interval
``[low, low + P) ⊂ [0, 1)`` (computed with Python integers: no rounding anywhere); its codeword
is the shortest dyadic interval ``[m 2^-l, (m + 1) 2^-l)`` inside it, written as ``m`` in ``l``
bits. Hence ``l <= ceil(-log2 P) + 1`` and, since the intervals of different blocks are disjoint
and each codeword's interval lies inside its block's, the codewords of the blocks of a given
length form a prefix-free set. The decoder reads the value of the bits that follow and finds
the symbols whose intervals contain it, then recomputes ``l`` from them and checks that the
bits it consumed are that codeword.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from numerics.compression.bits import BitReader, BitWriter, MessageError, write_fixed

#: symbols per block: the cost of a block grows with the square of its length
BLOCK = 4096

#: context of position i given the symbols before it (the default: one context)
Context = Callable[[int, Sequence[int]], int]


def single_context(position: int, previous: Sequence[int]) -> int:
    """One context for every position."""
    return 0


class KTModel:
    """Adaptive counts per context; :meth:`interval` gives a symbol's integer sub-interval."""

    def __init__(self, alphabet: int) -> None:
        if alphabet < 1:
            raise ValueError(f"alphabet={alphabet}: must be >= 1")
        self.alphabet = alphabet
        self.counts: dict[int, list[int]] = {}

    def interval(self, context: int, symbol: int) -> tuple[int, int, int]:
        """``(cumulative, frequency, total)``: the symbol's probability is frequency / total."""
        counts = self.counts.setdefault(context, [0] * self.alphabet)
        cumulative = sum(2 * count + 1 for count in counts[:symbol])
        return cumulative, 2 * counts[symbol] + 1, 2 * sum(counts) + self.alphabet

    def find(self, context: int, target: int, scale: int) -> int:
        """The symbol whose interval ``[cum, cum + freq)`` (times ``scale``) contains ``target``."""
        counts = self.counts.setdefault(context, [0] * self.alphabet)
        cumulative = 0
        for symbol, count in enumerate(counts):
            cumulative += 2 * count + 1
            if target < cumulative * scale:
                return symbol
        raise MessageError("an arithmetic codeword outside every symbol's interval")

    def update(self, context: int, symbol: int) -> None:
        self.counts[context][symbol] += 1


def _block_interval(symbols: Sequence[int], start: int, model: KTModel, context: Context, history: list[int]) -> tuple[int, int, int]:
    """``(low, width, denominator)`` of a block; updates ``model`` and ``history``."""
    low, width, denominator = 0, 1, 1
    for offset, symbol in enumerate(symbols):
        cumulative, frequency, total = model.interval(context(start + offset, history), symbol)
        low = low * total + width * cumulative
        width *= frequency
        denominator *= total
        model.update(context(start + offset, history), symbol)
        history.append(symbol)
    return low, width, denominator


def _codeword(low: int, width: int, denominator: int) -> tuple[int, int]:
    """``(m, l)``: the shortest ``[m 2^-l, (m + 1) 2^-l)`` inside ``[low, low + width) / denominator``."""
    length = max((denominator // width).bit_length() - 1, 0)  # 2^-l <= width / denominator needs l >= log2(d / w)
    while True:
        m = -((-low << length) // denominator)  # ceil(low 2^l / d)
        if (m + 1) * denominator <= (low + width) << length:
            return m, length
        length += 1


def _check_symbols(symbols: Sequence[int], alphabet: int) -> None:
    for position, symbol in enumerate(symbols):
        if not 0 <= symbol < alphabet:
            raise ValueError(f"symbols[{position}]={symbol}: must satisfy 0 <= symbol < {alphabet}")


def encode(symbols: Sequence[int], alphabet: int, writer: BitWriter, context: Context = single_context) -> int:
    """Append the codewords of ``symbols`` to ``writer``; returns the number of bits written."""
    symbols = [int(symbol) for symbol in symbols]
    _check_symbols(symbols, alphabet)
    model, history, written = KTModel(alphabet), [], 0
    for start in range(0, len(symbols), BLOCK):
        low, width, denominator = _block_interval(symbols[start : start + BLOCK], start, model, context, history)
        m, length = _codeword(low, width, denominator)
        write_fixed(writer, m, length)
        written += length
    return written


def code_length(symbols: Sequence[int], alphabet: int, context: Context = single_context) -> int:
    """The number of bits :func:`encode` writes for ``symbols`` (computed exactly, nothing written)."""
    return encode(symbols, alphabet, BitWriter(), context)


def decode(reader: BitReader, alphabet: int, count: int, context: Context = single_context) -> list[int]:
    """Read ``count`` symbols written by :func:`encode` with the same alphabet and context."""
    model, history = KTModel(alphabet), []
    for start in range(0, count, BLOCK):
        size = min(BLOCK, count - start)
        # a block's codeword is at most sum_i log2(total_i) + 1 bits: read that much ahead at most
        largest_total = 2 * (start + size) + alphabet
        ahead = reader.rest()[: size * largest_total.bit_length() + 2]
        value, scale = int(ahead or "0", 2), len(ahead)
        # remainder = value d - low 2^scale, scaled width = width 2^scale: the value lies in
        # [low, low + width) / d  iff  0 <= remainder < scaled width
        remainder, scaled_width = value, 1 << scale
        block: list[int] = []
        seen = list(history)
        trial = KTModel(alphabet)
        trial.counts = {key: list(counts) for key, counts in model.counts.items()}
        for offset in range(size):
            key = context(start + offset, seen)
            total = 2 * sum(trial.counts.setdefault(key, [0] * alphabet)) + alphabet
            symbol = trial.find(key, remainder * total, scaled_width)
            cumulative, frequency, _ = trial.interval(key, symbol)
            remainder = remainder * total - scaled_width * cumulative
            scaled_width *= frequency
            trial.update(key, symbol)
            block.append(symbol)
            seen.append(symbol)
        low, width, denominator = _block_interval(block, start, model, context, history)
        m, length = _codeword(low, width, denominator)
        if reader.read_bits(length) != (format(m, f"0{length}b") if length else ""):
            raise MessageError(f"bits at {reader.position - length} are not the arithmetic codeword of the symbols they decode to")
    return history

"""Train (or reuse), encode, decode and bound: the certified compression bound on MNIST.

:func:`compress` runs the whole chain for a :class:`~numerics.compression.config.CompressionConfig`:

1. the network: reused from the results store when an entry with the config's content key
   holds a message, else trained (:mod:`numerics.compression.training`) and its message stored;
2. the message: :func:`~numerics.compression.message.encode`; the network evaluated below is
   :func:`~numerics.compression.message.decode` of those bits, checked identical to the trained
   quantised network;
3. the training error: counted exactly in integer arithmetic on the ``n`` training images
   (:func:`~numerics.compression.network.certified_errors`; ties count as mistakes);
4. the bound: the statement ``langford2005.occam_kl`` evaluated certified at
   ``(n, errors, bits = message length, delta)``; ``bound`` is the float64 at or above the
   enclosure's upper end (a valid bound), ``bound_lower`` the float64 at or below its lower end.

The test error on the 10,000 MNIST test images is measured the same exact way; it is an
estimate of the risk the bound holds for, not part of the bound.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from numerics.compression.bits import MessageError
from numerics.compression.config import CompressionConfig
from numerics.compression.message import Message, decode, encode
from numerics.compression.network import QuantisedNetwork, certified_errors
from numerics.compression.training import train
from numerics.data.mnist import load_mnist
from numerics.evaluation import Evaluation, evaluate
from numerics.evaluation.special import exact_fraction, float_above, float_below
from numerics.store import RUNS, ResultStore, content_key

STATEMENT = "langford2005.occam_kl"
#: salts the results-store key: bump when training or the code changes what a config produces
COMPRESSION_CODE_VERSION = 1
ENTRY_LAYOUT = {"message": str, "history": dict, "metadata": dict}
#: digits of the certified evaluation of the bound
DPS = 30


@dataclass(frozen=True)
class CompressionResult:
    """A certified bound and its parts (see the module docstring)."""

    config: CompressionConfig
    network: QuantisedNetwork
    message: Message
    n: int
    errors: int
    test_n: int
    test_errors: int
    evaluation: Evaluation
    history: dict[str, list[float]]
    key: str
    reused: bool
    train_seconds: float

    @property
    def bound(self) -> float:
        """The smallest float64 at or above the certified enclosure: a valid risk bound."""
        return float_above(exact_fraction(self.evaluation.enclosure.upper))

    @property
    def bound_lower(self) -> float:
        return float_below(exact_fraction(self.evaluation.enclosure.lower))

    @property
    def train_error(self) -> float:
        return self.errors / self.n

    @property
    def test_error(self) -> float:
        return self.test_errors / self.test_n

    @property
    def bits(self) -> int:
        return self.message.length

    def to_json(self) -> dict[str, object]:
        """The object of ``rankbound bound compress --json`` (its keys are a contract)."""
        return {
            "bound": self.bound,
            "bound_lower": self.bound_lower,
            "train_error": self.train_error,
            "test_error": self.test_error,
            "bits": self.bits,
            "n": self.n,
            "delta": float(self.config.delta),
            "ranks": list(self.config.architecture.ranks),
            "bits_per_part": dict(self.message.parts),
        }


def store_key(config: CompressionConfig, data_digest: str) -> str:
    return content_key({"code": COMPRESSION_CODE_VERSION, "config": config.to_json(), "data": data_digest})


def _reuse(store: ResultStore, key: str, config: CompressionConfig) -> tuple[Message, QuantisedNetwork, dict] | None:
    entry = store.load(RUNS, key, ENTRY_LAYOUT)
    if entry is None:
        return None
    try:
        network = decode(entry["message"])
    except MessageError:
        return None  # not a message of this code: trained again and overwritten
    message = encode(network)
    if network.architecture != config.architecture or message.bits != entry["message"]:
        return None
    return message, network, entry


def compress(
    config: CompressionConfig,
    *,
    store: str | os.PathLike[str] | None = "results",
    data_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> CompressionResult:
    """The certified compression bound of ``config`` (reusing the store's network when present).

    ``store=None`` trains without reading or writing a results store.
    """
    train_pool, test_pool = load_mnist(data_dir)
    images, labels = train_pool.features[: config.train_size], train_pool.targets[: config.train_size]
    key = store_key(config, str(train_pool.provenance.get("array_sha256", "")))
    results = ResultStore(store) if store is not None else None
    reused = _reuse(results, key, config) if results is not None else None
    if reused is not None:
        message, network, entry = reused
        history, train_seconds = entry["history"], float(entry["metadata"].get("train_seconds", 0.0))
    else:
        started = time.perf_counter()
        trained, history = train(config.architecture, config.training, images, labels, progress)
        train_seconds = time.perf_counter() - started
        message = encode(trained)
        network = decode(message.bits)
        if not network.equals(trained):
            raise RuntimeError("the decoded network differs from the encoded one: a bug in the code")
        if results is not None:
            metadata = {"train_seconds": train_seconds, "config": config.to_json(), "statement": STATEMENT}
            results.save(RUNS, key, {"message": message.bits, "history": history, "metadata": metadata})
    errors = certified_errors(network, images, labels)
    test_errors = certified_errors(network, test_pool.features, test_pool.targets)
    params = {"n": len(labels), "errors": errors, "bits": message.length, "delta": config.delta}
    evaluation = evaluate(STATEMENT, params, dps=DPS)
    return CompressionResult(
        config=config,
        network=network,
        message=message,
        n=len(labels),
        errors=errors,
        test_n=len(test_pool.targets),
        test_errors=test_errors,
        evaluation=evaluation,
        history={name: [float(value) for value in values] for name, values in history.items()},
        key=key,
        reused=reused is not None,
        train_seconds=train_seconds,
    )


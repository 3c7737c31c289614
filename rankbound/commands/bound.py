"""``rankbound bound``: certified generalization bounds of trained networks."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rankbound.commands.errors import InputError


@click.group("bound")
def bound_group() -> None:
    """Certified, non-vacuous generalization bounds computed end to end."""


def _describe(result) -> list[str]:  # noqa: ANN001 - a CompressionResult
    from numerics.evaluation.evaluate import exact_decimal

    architecture = result.config.architecture
    layers = " -> ".join(str(width) for width in architecture.dims)
    ranks = ", ".join(f"layer {layer}: rank {rank}" if rank else f"layer {layer}: dense" for layer, rank in enumerate(architecture.ranks, start=1))
    parts = ", ".join(f"{name} {bits}" for name, bits in result.message.parts.items())
    enclosure = result.evaluation
    return [
        f"{result.evaluation.statement.id} on MNIST (preset {result.config.name}): risk <= {result.bound:.6g} with probability >= {1 - float(result.config.delta):g}",
        f"  bound       certified enclosure [{enclosure.lower}, {enclosure.upper}]",
        f"  network     {layers} ({ranks}); crop {architecture.crop}, pool {architecture.pool}; "
        f"{architecture.weight_levels} weight / {architecture.bias_levels} bias levels, {architecture.mantissa_bits}-bit mantissas",
        f"  message     {result.bits} bits: {parts}",
        f"  training    {result.errors} / {result.n} errors = {result.train_error:.5f} (exact integer evaluation of the decoded network; ties count as errors)",
        f"  test        {result.test_errors} / {result.test_n} errors = {result.test_error:.5f} (an estimate of the risk, not part of the bound)",
        f"  delta       {exact_decimal(result.config.delta)}",
        f"  network     {'reused from' if result.reused else 'trained in'} "
        + (f"the results store (entry {result.key[:12]}; trained in {result.train_seconds:.0f} s)" if result.reused else f"{result.train_seconds:.0f} s, stored as {result.key[:12]}"),
    ]


@bound_group.command("compress")
@click.option("--preset", default="quick", show_default=True, metavar="quick|FILE", help="Architecture, training and delta (a shipped preset or a TOML file).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: bound, bound_lower, train_error, test_error, bits, n, delta, ranks, bits_per_part.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results store (a network trained before for the same preset is reused).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Offline data directory (default: $RANKBOUND_DATA, then ~/.cache/rankbound).")
def compress_command(preset: str, as_json: bool, store: Path, data_dir: Path | None) -> None:
    """Train (or reuse) a low-rank MLP on MNIST, encode it, and print its certified Occam bound.

    The bound is langford2005.occam_kl at the exact training error of the decoded network and the
    length of its message in a prefix-free code: with probability >= 1 - delta over the training
    sample, the decoded network's risk is at most the printed bound.
    """
    from numerics.compression.config import load_config
    from numerics.compression.pipeline import compress
    from numerics.data import DataError

    try:
        config = load_config(preset)
    except ValueError as error:
        raise InputError(f"--preset: {error}") from None
    progress = None if as_json else (lambda line: click.echo(line, err=True))
    try:
        result = compress(config, store=store, data_dir=data_dir, progress=progress)
    except DataError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo("\n".join(_describe(result)))

"""``rankbound train``: train (or reuse) the runs of a preset into a results store."""

from __future__ import annotations

import time
from pathlib import Path

import click

from rankbound.commands.workers import training_options, worker_options

DEFAULT_STORE = Path("results")


@click.command("train")
@worker_options
@click.option("--preset", required=True, metavar="quick|paper|FILE", help="A shipped preset or a preset TOML file.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True, help="Torch device.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Offline data directory (default: $RANKBOUND_DATA, then ~/.cache/rankbound).",
)
@click.option(
    "--download",
    is_flag=True,
    help="Let scikit-learn / torchvision download data sets missing from the data directory.",
)
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    help="Results store directory; finished runs found there are reused.",
)
@click.option("--only", multiple=True, metavar="EXPERIMENT", help="Train only this experiment (repeatable).")
def train_command(preset: str, device: str, data_dir: Path | None, download: bool, store: Path, only: tuple[str, ...]) -> None:
    """Train every experiment of a preset, reusing finished runs and resuming interrupted ones.

    The missing runs of all the experiments are trained as one sweep of groups, here or on
    workers (--jobs, --scheduler); the runs of each group are stored as soon as it finishes.
    The store must be a directory this process can write (or create); that is checked first.
    """
    import torch

    from numerics.data import DataError
    from numerics.training import load_preset, run_preset
    from reports.outputs import OutputDirectoryError, check_writable

    options = training_options()
    workers = options["workers"]

    try:
        check_writable(store)
    except OutputDirectoryError as error:
        raise click.BadParameter(str(error), param_hint="--store") from None
    try:
        loaded = load_preset(preset)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--preset") from None
    unknown = [name for name in only if name not in loaded.experiments]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not an experiment of preset {loaded.name} ({', '.join(loaded.experiments)})", param_hint="--only")
    if device == "cuda" and not workers.distributed and not torch.cuda.is_available():
        raise click.BadParameter("no CUDA device is available to this torch build", param_hint="--device")
    for name in only or tuple(loaded.experiments):
        _warn_inert_decays(name, loaded[name].runs)
    start = time.perf_counter()
    try:
        results = run_preset(loaded, store, only=list(dict.fromkeys(only)) or None, device=device, data_dir=data_dir, download=download, progress=True, **options)
    except DataError as error:
        raise click.ClickException(str(error)) from None
    totals = {"trained": 0, "reused": 0, "diverged": 0}
    for name, runs in results.items():
        counts = {
            "trained": sum(not run.reused for run in runs),
            "reused": sum(run.reused for run in runs),
            "diverged": sum(run.status == "diverged" for run in runs),
        }
        for key, value in counts.items():
            totals[key] += value
        click.echo(f"{name}: {len(runs)} runs (" + ", ".join(f"{key} {value}" for key, value in counts.items()) + ")")
    click.echo(
        f"preset {loaded.name}: trained {totals['trained']}, reused {totals['reused']}, diverged {totals['diverged']}; "
        f"wall time {time.perf_counter() - start:.1f} s on {workers.describe()}; store {store}"
    )


def _warn_inert_decays(experiment: str, runs: tuple) -> None:
    """One warning line per run whose weight decay is below the resolution of its dtype."""
    from numerics.training.decay import run_decay_resolutions

    for run in runs:
        inert = [resolution for resolution in run_decay_resolutions(run) if resolution.inert]
        if inert:
            label = ", ".join(f"{key}={value}" for key, value in run.canonical().items() if key in run.PER_MODEL)
            click.echo(
                f"Warning: {experiment} run ({label}, dtype {run.dtype}): weight decay numerically inert: "
                + "; ".join(resolution.describe() for resolution in inert)
                + '. Set dtype = "float64" to apply it.',
                err=True,
            )

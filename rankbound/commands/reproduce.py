"""``rankbound reproduce``: publish the reproductions of the seeds' experiments."""

from __future__ import annotations

from pathlib import Path

import click

from rankbound.commands.errors import InputError
from rankbound.commands.workers import training_options, worker_options

DEFAULT_PRESET = Path(__file__).resolve().parents[2] / "reports" / "reproductions" / "cpu.toml"


@click.command("reproduce")
@worker_options
@click.option("--preset", default=str(DEFAULT_PRESET), show_default="reports/reproductions/cpu.toml", metavar="quick|paper|FILE", help="Preset of the experiments.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/reproductions"), show_default=True)
@click.option("--only", multiple=True, metavar="NAME", help="chen_california, chen_mnist, chen_mnist_lr1e-4, oymak, ledent, generalization or compression (repeatable).")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results store (finished runs are reused).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Offline data directory.")
@click.option("--download", is_flag=True, help="Let scikit-learn / torchvision download missing data sets.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
def reproduce_command(preset: str, out_dir: Path, only: tuple[str, ...], store: Path, data_dir: Path | None, download: bool, device: str) -> None:
    """Write OUT/<experiment>/: summary.md, CSV/JSON tables and figures, from the results store.

    Runs missing from the store are trained first (at paper scale this wants a GPU); OUT is
    checked (a directory that exists or can be created, writable) before that.
    """
    from checks.context import CheckContext
    from checks.profiles import load_profile
    from reports.outputs import OutputDirectoryError, check_writable
    from reports.reproduce import reproduce

    load_profile()
    try:
        check_writable(out_dir)
    except OutputDirectoryError as error:
        raise InputError(f"--out: {error}") from None
    try:
        context = CheckContext.from_preset(preset, store=store, data_dir=data_dir, download=download, device=device, **training_options(), progress=True, scale="paper")
        written = reproduce(context, out_dir, only)
    except (ValueError, FileNotFoundError) as error:
        raise InputError(str(error)) from None
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    for folder in written:
        click.echo(f"wrote {folder / 'summary.md'}")

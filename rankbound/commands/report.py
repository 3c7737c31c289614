"""``rankbound report``: from nothing to a compiled LaTeX/PDF verification report."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click

from rankbound.commands.errors import InputError
from rankbound.commands.workers import training_options, worker_options


class _Stopwatch:
    """Wall time of each stage, in the order the stages ran (for the provenance table)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def stage(self, name: str):
        watch = self

        class _Stage:
            def __enter__(self):
                click.echo(f"[{name}] ...", err=True)
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                watch.seconds[name] = time.perf_counter() - self.start
                click.echo(f"[{name}] {watch.seconds[name]:.1f} s", err=True)
                return False

        return _Stage()


@click.command("report")
@worker_options
@click.option("--preset", default="quick", show_default=True, metavar="quick|paper|FILE", help="Preset of the experiments (trained runs are reused from --store).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("report"), show_default=True, help="Output directory: report.tex, figures/, report.pdf.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results store of the trained runs.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Offline data directory (default: $RANKBOUND_DATA, then ~/.cache/rankbound).")
@click.option("--download", is_flag=True, help="Let scikit-learn / torchvision download missing data sets.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--no-compile", is_flag=True, help="Write report.tex and the figures only.")
def report_command(preset: str, out_dir: Path, store: Path, data_dir: Path | None, download: bool, device: str, no_compile: bool) -> None:
    """Train (or reuse) the preset's experiments, run every check, and write the report.

    Writes OUT/report.tex, OUT/figures/*.pdf and OUT/report.pdf (latexmk, pdflatex). A failed
    run never leaves a half report: the output is built aside and moved into place. OUT is
    checked (a directory a build may replace, in a writable parent) before any training.
    Without LaTeX the .tex and figures are written and the command says how to compile them;
    when LaTeX fails or writes no PDF the command exits 1.
    """
    from checks.context import CheckContext
    from checks.profiles import load_profile
    from checks.registry import run_checks
    from reports.assemble import assemble
    from reports.build import ReportBuildError, build_report, check_output
    from reports.outputs import OutputDirectoryError
    from reports.provenance import collect_provenance

    load_profile()
    watch = _Stopwatch()
    try:
        check_output(out_dir)
    except (FileExistsError, OutputDirectoryError) as error:
        raise InputError(f"--out: {error}") from None
    try:
        context = CheckContext.from_preset(preset, store=store, data_dir=data_dir, download=download, device=device, **training_options(), progress=True)
    except (ValueError, FileNotFoundError) as error:
        raise InputError(str(error)) from None
    with watch.stage("train"):
        context.train()
    with watch.stage("checks"):
        report = run_checks(context)
    seeds = sorted({run.spec.seed for experiment in context.preset.experiments for run in context.runs(experiment)})
    with tempfile.TemporaryDirectory(prefix="rankbound-figures-") as figure_directory:
        with watch.stage("figures and statements"):
            provenance = collect_provenance(context.preset.name, context.preset.origin, seeds, watch.seconds, sys.argv)
            data = assemble(context, report, provenance, Path(figure_directory))
        try:
            with watch.stage("latex"):
                result = build_report(data, out_dir, compile=not no_compile)
        except ReportBuildError as error:
            click.echo(f"Error: LaTeX failed:\n{error}", err=True)
            sys.exit(1)
        except (FileExistsError, OutputDirectoryError) as error:
            raise InputError(f"--out: {error}") from None
    counts = report.counts()
    click.echo(f"wrote {result.tex}" + (f" and {result.pdf}" if result.pdf else ""))
    click.echo(", ".join(f"{counts.get(v, 0)} {v}" for v in ("holds", "violated", "vacuous", "inconclusive")) + f"; {sum(watch.seconds.values()):.0f} s in all")
    if not result.compiled:
        click.echo(result.message)

"""``rankbound check``: confront every statement with measurements and print the verdicts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rankbound.commands.errors import InputError
from rankbound.commands.workers import training_options, worker_options

VERDICT_ORDER = ("violated", "inconclusive", "vacuous", "holds")


def _format_table(records) -> str:
    rows = [
        (
            r.check,
            r.statement + (f"[{r.form}]" if r.form else ""),
            r.verdict,
            "" if r.ratio is None else f"{r.ratio:.3g}",
            r.reason if len(r.reason) <= 110 else r.reason[:107] + "...",
        )
        for r in records
    ]
    header = ("check", "statement", "verdict", "ratio", "reason")
    widths = [max(len(row[k]) for row in [header, *rows]) for k in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4] for row in [header, *rows])


@click.command("check")
@worker_options
@click.option("--preset", default="quick", show_default=True, metavar="quick|paper|FILE", help="Preset whose trained runs the checks use.")
@click.option("--only", "only", multiple=True, metavar="ID", help="Only the checks of this statement id or check name (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of verdict records.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results store (trained runs are reused).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Offline data directory (default: $RANKBOUND_DATA, then ~/.cache/rankbound).")
@click.option("--download", is_flag=True, help="Let scikit-learn / torchvision download missing data sets.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
def check_command(preset: str, only: tuple[str, ...], as_json: bool, store: Path, data_dir: Path | None, download: bool, device: str) -> None:
    """Run the checks and print a verdict table; exit 1 if any verdict is `violated`.

    Verdicts: holds, violated, vacuous (true only because the bound exceeds the trivial
    range), inconclusive (the data cannot decide; the reason says why). Paper claims
    (kind "claim") the data contradict are reported as violated.
    """
    from checks.context import CheckContext
    from checks.profiles import load_profile
    from checks.registry import run_checks

    load_profile()
    try:
        context = CheckContext.from_preset(preset, store=store, data_dir=data_dir, download=download, device=device, **training_options(), progress=not as_json)
    except (ValueError, FileNotFoundError) as error:
        raise InputError(str(error)) from None
    try:
        report = run_checks(context, only, progress=None if as_json else lambda name: click.echo(f"running {name} ...", err=True))
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    if as_json:
        click.echo(json.dumps([r.to_json() for r in report.records], indent=2, default=str))
    else:
        ordered = sorted(report.records, key=lambda r: (VERDICT_ORDER.index(r.verdict), r.check))
        click.echo(_format_table(ordered))
        counts = report.counts()
        click.echo("\n" + ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICT_ORDER) + f" ({sum(report.seconds.values()):.0f} s)")
    sys.exit(1 if report.violated else 0)

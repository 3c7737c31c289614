"""``rankbound analyze CHECKPOINT``: spectral quantities of every weight matrix of a torch model.

The checkpoint is read as data only (:mod:`numerics.measures.checkpoint`): nothing stored in it,
TorchScript code included, is executed.
"""

from __future__ import annotations

import json
import sys

import click

from numerics.measures.analyze import DEFAULT_EXPONENTS, DEFAULT_MEMORY_LIMIT_GIB, Analysis, analyze


@click.command("analyze")
@click.argument("checkpoint")
@click.option(
    "--p",
    "exponents",
    default=DEFAULT_EXPONENTS,
    show_default=True,
    help="Comma-separated Schatten exponents p > 0 ('inf' allowed); p < 1 gives quasi-norms.",
)
@click.option("--rtol", default=None, help="Relative rank tolerance (default: numpy's max(m, n) * eps).")
@click.option("--atol", default=None, help="Absolute rank tolerance.")
@click.option(
    "--method",
    default="auto",
    show_default=True,
    help="Singular values by 'svd' (LAPACK), 'gram' (Gram eigenvalues) or 'auto' (Gram where accurate to 1e-6).",
)
@click.option(
    "--memory-limit",
    default=str(DEFAULT_MEMORY_LIMIT_GIB),
    show_default=True,
    metavar="GIB",
    help="Skip matrices whose analysis needs more than this many GiB (8 (3 m n + 2 min(m, n)^2) bytes).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"layers": [...], "skipped": [...]} as strict JSON (values beyond float64\'s range as decimal strings).',
)
def analyze_command(
    checkpoint: str, exponents: str, rtol: str | None, atol: str | None, method: str, memory_limit: str, as_json: bool
) -> None:
    """Analyse CHECKPOINT: a state_dict file (torch.save(model.state_dict(), path)) or a TorchScript archive.

    Nothing in the file is executed. A state_dict is loaded with torch.load(weights_only=True);
    a TorchScript archive is never passed to torch.jit.load (which runs the archive's code):
    the tensors of its saved module state are read from its records and named by attribute
    path, as in state_dict(), plus any tensor attribute that is not a parameter or buffer.

    One row per weight matrix (conv kernels as (out, in*kh*kw) reshapes): spectral and Frobenius
    norms, stable rank, Schatten-p norms, numerical rank and its tolerance, effective rank and
    rank proxies. Tensors that are not analysed are listed with the reason.
    """
    try:
        result = analyze(
            checkpoint,
            exponents,
            _number(rtol, "rtol"),
            _number(atol, "atol"),
            method,
            memory_limit_gib=_number(memory_limit, "memory-limit"),
        )
    except ValueError as error:
        click.echo(f"rankbound analyze: error: {error}", err=True)
        sys.exit(2)
    click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False) if as_json else _table(result))


def _number(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None


def _table(result: Analysis) -> str:
    """The rows as a fixed-width table, followed by the skipped tensors."""
    lines = []
    if result.layers:
        frame = result.to_frame()
        frame["shape"] = frame["shape"].map(lambda shape: "x".join(map(str, shape)))
        frame["reshape"] = frame["reshape"].map(lambda note: "(out, in*k...)" if isinstance(note, str) else "")
        shown = frame.drop(columns=["matrix_shape", "rank_rule", "singular_value_relative_error"])
        # values beyond float64's range are strings: such columns mix both, so format them cell by cell
        for column in shown.columns[shown.dtypes == object]:
            shown[column] = shown[column].map(lambda value: f"{value:.6g}" if isinstance(value, float) else value)
        lines.append(shown.to_string(index=False, float_format=lambda value: f"{value:.6g}"))
        rule = result.layers[0].rank_rule
        if rule.startswith("numpy default"):
            rule = "numpy default: rtol = max(m, n) * eps of the stored dtype"
        lines.append(f"rank = #{{sigma_i > rank_tolerance}}, rank_tolerance = max(atol, rtol * sigma_1); {rule}")
    else:
        lines.append("no weight matrices found")
    for entry in result.skipped:
        lines.append(f"skipped {entry.name}: {entry.reason}")
    return "\n".join(lines)

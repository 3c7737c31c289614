"""``rankbound list``, ``show``, ``eval`` and ``derive``: the statement catalogue."""

from __future__ import annotations

import json

import click
import sympy

from rankbound.commands.errors import InputError, user_errors


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {id, title, source, tag}.")
def list_command(as_json: bool) -> None:
    """List every statement: id, confidence tag, kind, title and source."""
    from derivations import statements

    if as_json:
        click.echo(json.dumps([{"id": s.id, "title": s.title, "source": str(s.source), "tag": s.tag} for s in statements()], indent=2))
        return
    rows = [(s.id, f"[{s.tag}]", s.kind.value, s.title) for s in statements()]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3])


def _describe(statement) -> list[str]:
    from derivations.statement import RELATIONS  # noqa: F401 - documents the relation names
    from derivations.symbolic import for_statement

    lines = [
        f"{statement.id}: {statement.title}",
        f"  source:     {statement.source}" + (f" (spec: {statement.source.notes})" if statement.source.notes else ""),
        f"  confidence: [{statement.tag}]" + (f" {statement.tag_note}" if statement.tag_note else ""),
        f"  kind:       {statement.kind.value}",
    ]
    if statement.parameters:
        lines.append("  parameters:")
        lines += [f"    {p.describe()}" for p in statement.parameters]
    if statement.hypotheses:
        lines.append("  hypotheses:")
        lines += [f"    {h.describe()}" + (f"  (form {', '.join(h.forms)})" if h.forms else "") for h in statement.hypotheses]
    if statement.assumptions:
        lines.append("  assumptions:")
        lines += [f"    {a}" for a in statement.assumptions]
    relation = {"<=": "<=", ">=": ">=", "=": "=", "lesssim": "<~", "asymp": "~"}[statement.relation]
    if statement.forms:
        lines.append(f"  conclusion ({statement.form_key}s; the first is the default):")
        for form in statement.forms:
            tag = f" [{form.tag}]" if form.tag else ""
            shown = form.display if form.display is not None else form.expr
            lines.append(f"    {form.name}{tag}: {statement.bounded}  {relation}  {sympy.sstr(shown)}")
            if form.description:
                lines.append(f"      ({form.description})")
    if statement.claims:
        lines.append("  claims:")
        lines += [f"    {c.text}" for c in statement.claims]
    if statement.conventions:
        lines.append("  conventions:")
        lines += [f"    {k}: {v}" for k, v in statement.conventions.items()]
    if statement.trivial_above is not None:
        lines.append(f"  vacuous above: {statement.trivial_above}")
    if statement.notes:
        lines.append(f"  notes: {statement.notes}")
    derivations = for_statement(statement.id)
    if derivations:
        lines.append(f"  derivations (rankbound derive {statement.id}): " + "; ".join(d.title for d in derivations))
    return lines


@click.command("show")
@click.argument("statement_id")
@click.option("--latex", is_flag=True, help="Print the LaTeX rendered from the SymPy declaration.")
def show_command(statement_id: str, latex: bool) -> None:
    """Show a statement: parameters with domains, hypotheses, conclusion, source and tag."""
    from derivations import get
    from derivations.latex import render

    with user_errors():
        statement = get(statement_id)
    click.echo(render(statement) if latex else "\n".join(_describe(statement)))


def _parse_assignments(assignments: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise InputError(f"{item!r}: parameters are given as name=value (e.g. eps=0.1, s=1,2,3)")
        if name in params:
            raise InputError(f"{name}: given twice")
        params[name] = value
    return params


@click.command("eval")
@click.argument("statement_id")
@click.argument("assignments", nargs=-1)
@click.option("--dps", default=50, show_default=True, type=click.IntRange(min=1, max=2000), help="Certified decimal digits.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: id, params, dps, value, lower, upper, certified.")
def eval_command(statement_id: str, assignments: tuple[str, ...], dps: int, as_json: bool) -> None:
    """Evaluate a statement at NAME=VALUE parameters, certified to --dps digits.

    Per-layer parameters are comma-separated (s=1,2.5,3); a statement's form is chosen
    with its form key, e.g. variant=2B+1 (see `rankbound show ID`).
    """
    from derivations import get
    from numerics.evaluation import evaluate
    from numerics.evaluation.evaluate import AGREES
    from numerics.evaluation.vacuity import vacuity

    with user_errors():
        statement = get(statement_id)
        params = _parse_assignments(assignments)
        form = params.pop(statement.form_key, None)
        result = evaluate(statement, params, dps=dps, form=form)
        vacuous = vacuity(result)
    if as_json:
        click.echo(json.dumps({**result.to_json(), "vacuous": vacuous}, indent=2))
        return
    click.echo(f"{statement.id} [{result.point.form.name}]  [{statement.tag_of(result.point.form.name)}]")
    click.echo(f"  value     {result.value}")
    click.echo(f"  enclosure [{result.lower}, {result.upper}]  (certified to {dps} digits)")
    if result.cross_check != AGREES:
        click.echo(f"  {result.cross_check}; the value is the enclosure's midpoint")
    if vacuous:
        click.echo(f"  vacuous: exceeds the trivial range ({statement.trivial_above})")


@click.command("derive")
@click.argument("statement_id")
@click.option("--latex", is_flag=True, help="Print each step's expression as LaTeX.")
def derive_command(statement_id: str, latex: bool) -> None:
    """Print the symbolic derivations attached to a statement, with SymPy's verdicts."""
    from derivations.symbolic import for_statement, statements_with_derivations

    with user_errors():
        derivations = for_statement(statement_id)
    if not derivations:
        click.echo(f"No symbolic derivations for {statement_id}. Available for: {', '.join(statements_with_derivations())}")
        return
    marks = {True: "verified", False: "FAILED", None: ""}
    for derivation in derivations:
        click.echo(f"{derivation.title}  [{'verified' if derivation.verified else 'NOT verified'}]")
        if derivation.source:
            click.echo(f"  source: {derivation.source}")
        for number, step in enumerate(derivation.steps, 1):
            click.echo(f"  {number}. {step.text}" + (f"  [{marks[step.verified]}]" if step.verified is not None else ""))
            body = step.latex() if latex else sympy.pretty(step.expr, use_unicode=True, wrap_line=False)
            click.echo("\n".join("       " + line for line in body.splitlines()))
        click.echo()

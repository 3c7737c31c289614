"""Render a :class:`~reports.model.ReportData` to the LaTeX source of the report.

The templates (``reports/templates/*.tex.j2``, shipped as package data) use LaTeX-safe
Jinja2 delimiters: ``\\VAR{expression}``, ``\\BLOCK{statement}`` and ``\\#{comment}``.
Nothing is escaped automatically: every plain-text field goes through the ``escape``
filter (:func:`escape_text`), LaTeX fields are inserted as they are. Undefined names are
errors (``StrictUndefined``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import jinja2

from checks.verdict import VERDICTS
from derivations.latex import escape
from derivations.statement import TAGS
from reports.model import ReportData, VerdictRow

#: what each verdict means (checks/verdict.py)
VERDICT_MEANINGS: dict[str, str] = {
    "holds": "the measured quantity lies on the bound's side of its certified enclosure, "
    "by more than the measurement's error",
    "violated": "the measured quantity lies beyond the enclosure by more than that error "
    "(for a paper's experimental claim: the data contradict the claim)",
    "vacuous": "it holds, but only because the bound exceeds the trivial range "
    "(a probability above 1, a deviation above the loss range) and says nothing",
    "inconclusive": "the data cannot decide (inputs only bracketed, margin inside the rounding "
    "error, training diverged, ...); the reason column says which",
}


def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["escape"] = escape_text
    env.filters["e"] = escape_text  # Jinja's built-in alias would HTML-escape
    env.filters["identifier"] = breakable_identifier
    env.filters["number"] = breakable_number
    env.filters["code"] = code_text
    env.filters["yes_no"] = yes_no
    env.filters["assignments"] = assignments
    env.filters["sentence"] = sentence
    return env


def escape_text(text: object) -> str:
    """Plain text for LaTeX: :func:`derivations.latex.escape`, with ``[`` and ``]`` braced.

    Braced brackets cannot be read as the optional argument of a preceding ``\\\\`` or
    ``\\item`` when a table cell or list item starts with one.
    """
    return escape(str(text)).replace("[", "{[}").replace("]", "{]}")


def code_text(text: str) -> str:
    """Escaped text to show character for character in ``\\texttt`` (a command line).

    Hyphens are kept apart (``--`` would become an en dash) and quotes are straight.
    """
    return (
        escape_text(text)
        .replace("-", "-{}")
        .replace("'", r"\textquotesingle{}")
        .replace("`", r"\textasciigrave{}")
    )


def breakable_identifier(text: str) -> str:
    """Escape an identifier and let lines break after its dots and underscores."""
    return escape_text(text).replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}")


def breakable_number(text: str, every: int = 8) -> str:
    """Escape a number and let a long one (a certified value's digits) break inside its mantissa
    every ``every`` digits; numbers of at most 12 characters and exponents are never broken
    (``\\mbox``: not even at the minus sign of ``e-07``)."""
    text = str(text)
    if len(text) <= 12:
        return rf"\mbox{{{escape_text(text)}}}" if text else ""
    mantissa, mark, exponent = text.partition("e")
    pieces = [mantissa[start : start + every] for start in range(0, len(mantissa), every)]
    tail = rf"\mbox{{{escape_text(mark + exponent)}}}" if mark else ""
    return r"\allowbreak{}".join(escape_text(piece) for piece in pieces) + tail


def sentence(text: str) -> str:
    """Escaped text ending with a full stop (added unless it ends with ``.``, ``?`` or ``!``)."""
    text = str(text).rstrip()
    return escape_text(text if text.endswith((".", "?", "!")) else text + ".")


def assignments(values: Mapping[str, str]) -> str:
    """``n = 10, eps = 0.1``: escaped name = value pairs."""
    return ", ".join(f"{escape_text(name)} = {escape_text(value)}" for name, value in values.items())


def yes_no(value: bool | None) -> str:
    """``yes`` / ``no`` / ``undecided`` for a flag that may be unknown."""
    return "undecided" if value is None else ("yes" if value else "no")


def group_verdicts(rows: tuple[VerdictRow, ...]) -> dict[str, list[VerdictRow]]:
    """Verdict rows by check group, groups in order of first appearance."""
    groups: dict[str, list[VerdictRow]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    return groups


def verdict_counts(groups: dict[str, list[VerdictRow]]) -> list[tuple[str, dict[str, int], int]]:
    """(group, count per verdict, total) for each group, then ``("all groups", ..., ...)``."""
    rows = []
    overall: Counter[str] = Counter()
    for name, members in groups.items():
        counts = Counter(row.verdict for row in members)
        overall.update(counts)
        rows.append((name, {v: counts[v] for v in VERDICTS}, len(members)))
    rows.append(("all groups", {v: overall[v] for v in VERDICTS}, sum(overall.values())))
    return rows


def reference_labels(data: ReportData) -> dict[str, str]:
    """Cross-reference label of each statement id and figure name of the report."""
    labels = {s.id: f"statement:{s.id}" for s in data.statements}
    labels.update({f.name: f"figure:{f.name}" for f in data.figures})
    return labels


def render_report(data: ReportData) -> str:
    """The LaTeX source of the report; figures are referenced as ``figures/<name>.pdf``."""
    groups = group_verdicts(data.verdicts)
    return (
        environment()
        .get_template("report.tex.j2")
        .render(
            data=data,
            tags=TAGS,
            verdicts=VERDICTS,
            verdict_meanings=VERDICT_MEANINGS,
            verdict_groups=groups,
            verdict_counts=verdict_counts(groups),
            labels=reference_labels(data),
        )
    )

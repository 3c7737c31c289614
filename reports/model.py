"""The data a report is built from.

A :class:`ReportData` is everything the templates see; the checks layer assembles it and
:func:`reports.build.build_report` turns it into ``report.tex``, ``figures/*.pdf`` and
``report.pdf``. Two kinds of string occur and the field comments say which each field is:

* **plain text** (user and measurement strings: titles, reasons, captions, numbers): the
  templates escape it, so ``_ % & # $ { } ~ ^ \\`` are safe;
* **LaTeX** (statement pieces produced by SymPy, :mod:`derivations.latex`): inserted verbatim,
  so it must be valid LaTeX math.

Sequences are stored as tuples (lists are accepted and converted), so the records stay
immutable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checks.verdict import VERDICTS

#: verdicts of a "paper says / we measured" row
CLAIM_VERDICTS = ("supported", "not supported", "inconclusive")
#: what a verdict row checks: a bound or identity of a theorem, or an experimental claim of a paper
VERDICT_KINDS = ("theorem", "claim")

_LABEL_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_FILE_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _freeze(record: object, *names: str) -> None:
    """Store the named sequence fields of a frozen dataclass as tuples."""
    for name in names:
        object.__setattr__(record, name, tuple(getattr(record, name)))


def _require(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what}={value!r}: must be one of {', '.join(map(repr, allowed))}")


@dataclass(frozen=True)
class Provenance:
    """How, where and from what code a report was produced (all plain text)."""

    packages: Mapping[str, str]  #: distribution name -> version ("not installed" when absent)
    git_commit: str  #: full commit hash, or "not a git checkout"
    git_dirty: bool | None  #: uncommitted changes in the checkout; None outside a checkout
    hostname: str
    platform: str  #: operating system and machine, e.g. "Linux-6.1-x86_64-with-glibc2.36"
    cpu: str  #: CPU model
    cores: int  #: logical cores
    ram: str  #: total memory, e.g. "15.6 GiB"
    gpu: str  #: CUDA device name, or why there is none
    preset_name: str
    preset_origin: str  #: "shipped" or the preset file's path
    seeds: tuple[int, ...]
    wall_times: Mapping[str, float]  #: stage -> seconds, in the order the stages ran
    command_line: str
    date_utc: str  #: ISO 8601, e.g. "2025-01-31T12:00:00Z"

    def __post_init__(self) -> None:
        _freeze(self, "seeds")


@dataclass(frozen=True)
class ExampleValue:
    """A certified value of one form of a statement at one parameter point."""

    form: str  #: plain text: the form's name
    params: Mapping[str, str]  #: plain text: parameter name -> value as written
    digits: str  #: plain text: only the digits the enclosure certifies, e.g. "3.1739e+6"
    vacuous: bool | None  #: beyond the trivial range; None: undecided


@dataclass(frozen=True)
class StatementEntry:
    """One catalogue statement as the report shows it."""

    id: str  #: plain text; also used as a cross-reference label, so letters, digits and ``_ . : -``
    title: str  #: plain text
    tag: str  #: plain text: confidence tag, e.g. "R+" or "M/R+"
    tag_note: str  #: plain text: what qualifies the tag ("" for nothing)
    kind: str  #: plain text: "bound", "definition", "identity", "order"
    source: str  #: plain text: reference and locator
    parameters: tuple[str, ...]  #: LaTeX: each parameter with its domain
    hypotheses: tuple[str, ...]  #: LaTeX: one relation each
    assumptions: tuple[str, ...]  #: plain text: standing assumptions in words
    #: (name: plain, description: plain, conclusion: LaTeX, definitions: LaTeX each)
    forms: tuple[tuple[str, str, str, tuple[str, ...]], ...]
    claims: tuple[str, ...]  #: LaTeX: further relations the statement asserts
    conventions: Mapping[str, str] = field(default_factory=dict)  #: plain text both sides
    examples: tuple[ExampleValue, ...] = ()

    def __post_init__(self) -> None:
        if not _LABEL_SAFE.match(self.id):
            raise ValueError(f"statement id {self.id!r}: use letters, digits and _ . : - only")
        _freeze(self, "parameters", "hypotheses", "assumptions", "claims", "examples")
        object.__setattr__(
            self, "forms", tuple((name, text, conclusion, tuple(defs)) for name, text, conclusion, defs in self.forms)
        )


@dataclass(frozen=True)
class VerdictRow:
    """One check outcome as a table row (all plain text)."""

    statement: str  #: statement id
    check: str  #: check name, ``group.name`` (the part before the first dot is the table it goes in)
    form: str
    tag: str
    kind: str  #: "theorem" or "claim"
    verdict: str  #: holds / violated / vacuous / inconclusive
    measured: str
    bound: str  #: the bound's certified digits
    ratio: str  #: measured / bound
    reason: str
    coverage: str

    def __post_init__(self) -> None:
        _require(self.verdict, VERDICTS, "verdict")
        _require(self.kind, VERDICT_KINDS, "kind")

    @property
    def group(self) -> str:
        """The check group: the check name up to its first dot (``covering`` for ``covering.cp_net``)."""
        return self.check.split(".", 1)[0]


@dataclass(frozen=True)
class Figure:
    """A figure PDF and its caption."""

    name: str  #: file stem; the report stores it as ``figures/<name>.pdf``
    caption: str  #: plain text
    path: Path  #: the PDF written by a :mod:`reports.figures` function

    def __post_init__(self) -> None:
        if not _FILE_STEM.match(self.name):
            raise ValueError(f"figure name {self.name!r}: use letters, digits, _ and - only")
        object.__setattr__(self, "path", Path(self.path))


@dataclass(frozen=True)
class ClaimRow:
    """A row of the "paper says / we measured" table (all plain text)."""

    source: str  #: the paper
    claim: str
    paper_says: str
    we_measured: str
    verdict: str  #: supported / not supported / inconclusive
    reference: str  #: a statement id or a figure name of this report

    def __post_init__(self) -> None:
        _require(self.verdict, CLAIM_VERDICTS, "claim verdict")


@dataclass(frozen=True)
class CompressionEntry:
    """A certified compression bound as the report shows it (all plain text)."""

    preset: str
    statement: str  #: statement id of the bound
    bound: str  #: the bound's certified digits
    enclosure: str  #: "[lower, upper]"
    delta: str
    n: str
    errors: str
    train_error: str
    test_error: str
    verdict: str  #: of the check: holds / violated / vacuous / inconclusive
    reason: str
    network: str  #: the architecture in words
    bits: str
    parts: tuple[tuple[str, str], ...]  #: (part, bits) in message order
    comparison: str  #: published bounds of the kind, with their sources

    def __post_init__(self) -> None:
        _require(self.verdict, VERDICTS, "verdict")
        object.__setattr__(self, "parts", tuple((name, bits) for name, bits in self.parts))


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows."""

    title: str  #: plain text
    subtitle: str  #: plain text
    provenance: Provenance
    statements: tuple[StatementEntry, ...] = ()
    verdicts: tuple[VerdictRow, ...] = ()
    figures: tuple[Figure, ...] = ()
    claims: tuple[ClaimRow, ...] = ()
    notes: tuple[str, ...] = ()  #: plain-text paragraphs (what is vacuous and why, ...)
    compression: tuple[CompressionEntry, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self, "statements", "verdicts", "figures", "claims", "notes", "compression")
        for what, names in (("statement id", [s.id for s in self.statements]), ("figure name", [f.name for f in self.figures])):
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise ValueError(f"repeated {what}s: {', '.join(repeated)}")

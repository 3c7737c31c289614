"""The statement type: one declaration per theorem, lemma, definition or scaling law.

A :class:`Statement` holds everything the rest of the suite derives from:

* identity: ``id`` (as in the catalogue, e.g. ``"schatten_ball.lemma_s1"``), ``title``,
  :class:`Source` and confidence ``tag`` (``C``, ``R+``, ``R~``, ``T``, ``M``, ``P``, ``N``;
  combinations such as ``"M/R+"`` are allowed and ``tag_note`` qualifies them);
* :class:`Parameter` objects: the keyword names users pass, each with a SymPy symbol
  whose assumptions come from its :class:`~derivations.domain.Domain`; per-layer
  parameters are sequences (``sympy.IndexedBase``) whose length is another parameter;
* :class:`Hypothesis` objects: SymPy relations between parameters (a relation that
  contains the index :data:`INDEX` holds for every index of the sequences it mentions),
  and standing ``assumptions`` in words (about the setting, not the parameters);
* the conclusion: what is bounded (``bounded``, LaTeX), the ``relation`` and one or more
  :class:`Form` objects, the bounding expressions exactly as the conclusion writes them
  (the first form is the default; others are the variants a statement is known in);
* ``claims``: further relations of the statement that are not a single number
  (identities, rank conditions), verified symbolically or by the checks layer;
* ``conventions`` (norm orientation, cover type, log base ...) and ``notes``.

Nothing numeric happens here; :mod:`numerics` evaluates forms, :mod:`checks` confronts
them with measurements and :mod:`reports` renders them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import sympy

from derivations.domain import Domain

#: confidence tags of the catalogue (THEOREMS.md)
TAGS: dict[str, str] = {
    "C": "read in the source",
    "R+": "rebuilt, high confidence",
    "R~": "rebuilt, medium confidence",
    "T": "a third party's rendering",
    "M": "from memory of a standard text",
    "P": "proved in the notes",
    "N": "not found",
}

#: the summation / "for every layer" index used in per-layer expressions and hypotheses
INDEX = sympy.Symbol("i", integer=True, positive=True)
#: a second index for nested sums and products
INNER = sympy.Symbol("j", integer=True, positive=True)

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class Kind(enum.Enum):
    """What sort of conclusion a statement has."""

    #: ``bounded (relation) form``: an upper (``<=``) or lower (``>=``) bound
    BOUND = "bound"
    #: ``bounded = form``: a definition or an exact value
    DEFINITION = "definition"
    #: an exact symbolic identity between objects; verified symbolically, forms optional
    IDENTITY = "identity"
    #: a scaling law that hides constants and log factors; forms carry an explicit constant
    ORDER = "order"


RELATIONS = {"<=": r"\le", ">=": r"\ge", "=": "=", "lesssim": r"\lesssim", "asymp": r"\asymp"}


@dataclass(frozen=True)
class Source:
    """Where a statement comes from."""

    reference: str  #: authors and year, e.g. "Chen, Yi, Yang (2024)"
    locator: str  #: theorem / lemma / equation number in the source
    arxiv: str | None = None
    notes: str | None = None  #: section of the spec notes that records the statement

    def __str__(self) -> str:
        text = f"{self.reference}, {self.locator}"
        if self.arxiv:
            text += f", arXiv:{self.arxiv}"
        return text


@dataclass(frozen=True)
class Parameter:
    """A named input of a statement.

    ``name`` is the keyword users pass (``rankbound eval ID name=value``); ``symbol_name``
    is the SymPy name used for LaTeX (``"epsilon"`` renders as ``\\epsilon``). A sequence
    parameter (``length`` set) stands for the values ``x_start, ..., x_{start+length-1}``,
    one per layer; ``length`` is a SymPy expression in other (integer) parameters.
    """

    name: str
    description: str
    domain: Domain
    symbol_name: str | None = None
    length: sympy.Expr | None = None
    start: int = 1
    latex: str | None = None  #: LaTeX for the symbol when SymPy's rendering of the name is poor

    @property
    def is_sequence(self) -> bool:
        return self.length is not None

    @cached_property
    def symbol(self) -> sympy.Symbol | sympy.IndexedBase:
        name = self.symbol_name or self.name
        if self.is_sequence:
            return sympy.IndexedBase(name, **self.domain.assumptions())
        return sympy.Symbol(name, **self.domain.assumptions())

    def __getitem__(self, index: sympy.Expr) -> sympy.Indexed:
        if not self.is_sequence:
            raise TypeError(f"parameter {self.name!r} is a scalar, not a per-layer sequence")
        return self.symbol[index]

    def describe(self) -> str:
        condition = self.domain.describe(self.name if not self.is_sequence else f"{self.name}_i")
        if self.is_sequence:
            last = self.length + self.start - 1
            return f"{self.name}_{self.start}..{self.name}_{{{last}}}: {self.description} ({condition})"
        return f"{self.name}: {self.description} ({condition})"


@dataclass(frozen=True)
class Hypothesis:
    """A condition on several parameters, as a SymPy relation (or boolean combination).

    ``forms`` restricts it to the named forms (empty: it applies to every form).
    """

    condition: sympy.Basic
    text: str = ""
    forms: tuple[str, ...] = ()

    def applies_to(self, form: Form) -> bool:
        return not self.forms or form.name in self.forms

    def describe(self) -> str:
        return self.text or str(self.condition)


@dataclass(frozen=True)
class Form:
    """A bounding expression of the conclusion, exactly as the statement writes it.

    ``display`` is an equivalent, more compact expression for LaTeX, written with named
    sub-functions whose ``definitions`` (function, ``sympy.Lambda``) pairs it carries; it
    is used when the literal expression would run to pages, and a test checks that
    substituting the definitions gives back ``expr``.
    """

    name: str
    expr: sympy.Expr
    description: str = ""
    tag: str | None = None  #: confidence of this form when it differs from the statement's
    display: sympy.Expr | None = None
    definitions: tuple[tuple[sympy.FunctionClass, sympy.Lambda], ...] = ()

    def expanded_display(self, constants: Mapping[sympy.Basic, sympy.Basic]) -> sympy.Basic:
        """The display with ``constants`` substituted and its named sub-functions expanded
        (structurally: see :mod:`derivations.structure`)."""
        from derivations.structure import unroll

        return unroll(self.display if self.display is not None else self.expr, constants, dict(self.definitions))


@dataclass(frozen=True)
class Claim:
    """A further relation asserted by the statement (an identity, a rank bound ...)."""

    text: str
    latex: str


@dataclass(frozen=True)
class Statement:
    """One declaration of a catalogue statement; see the module docstring."""

    id: str
    title: str
    source: Source
    tag: str
    kind: Kind
    parameters: tuple[Parameter, ...]
    bounded: str  #: LaTeX of the bounded / defined quantity
    relation: str
    forms: tuple[Form, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = ()
    #: standing assumptions in words, about the setting rather than the parameters
    assumptions: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    conventions: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    tag_note: str = ""
    #: a value above which the bound says nothing (probability 1, the loss range ...)
    trivial_above: sympy.Expr | None = None
    #: keyword that selects a form (``variant=2B+1``); THEOREMS.md names it per statement
    form_key: str = "variant"

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.id):
            raise ValueError(f"statement id {self.id!r}: expected dotted lower-case words")
        for component in self.tag.split("/"):
            if component not in TAGS:
                raise ValueError(f"{self.id}: unknown confidence tag {component!r} (known: {', '.join(TAGS)})")
        if self.relation not in RELATIONS:
            raise ValueError(f"{self.id}: relation {self.relation!r} not in {sorted(RELATIONS)}")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names) or self.form_key in names:
            raise ValueError(f"{self.id}: parameter names must be unique and differ from {self.form_key!r}")
        if self.kind is not Kind.IDENTITY and not self.forms:
            raise ValueError(f"{self.id}: a {self.kind.value} statement needs at least one form")
        form_names = {f.name for f in self.forms}
        for hypothesis in self.hypotheses:
            if not set(hypothesis.forms) <= form_names:
                raise ValueError(f"{self.id}: hypothesis {hypothesis.describe()!r} names unknown forms {hypothesis.forms}")
        known = set(self.symbols().values())
        for form in self.forms:
            stray = _leaf_symbols(form.expr) - known
            if stray:
                raise ValueError(f"{self.id}: form {form.name!r} uses undeclared symbols {sorted(map(str, stray))}")

    # ------------------------------------------------------------------ lookup
    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    def symbols(self) -> dict[str, sympy.Symbol | sympy.IndexedBase]:
        return {p.name: p.symbol for p in self.parameters}

    def latex_names(self) -> dict[sympy.Symbol, str]:
        """``symbol_names`` for ``sympy.latex``: the declared LaTeX of each parameter."""
        names = {}
        for parameter in self.parameters:
            if parameter.latex:
                symbol = parameter.symbol
                names[symbol.label if parameter.is_sequence else symbol] = parameter.latex
        return names

    def form(self, name: str | None = None) -> Form:
        """The named form, or the default (first) one."""
        if not self.forms:
            raise LookupError(f"{self.id} has no numeric conclusion (an identity: see `rankbound derive {self.id}`)")
        if name is None:
            return self.forms[0]
        for form in self.forms:
            if form.name == name:
                return form
        choices = ", ".join(f.name for f in self.forms)
        raise LookupError(f"{self.id}: no {self.form_key} {name!r}; choose one of {choices}")

    def tag_of(self, form: str | None = None) -> str:
        """The confidence tag of a form: its own where it differs from the statement's, else the statement's."""
        return self.form(form).tag or self.tag

    def required_parameters(self, form: Form) -> tuple[Parameter, ...]:
        """Parameters a form needs: those in its expression, its sequences' lengths, and
        those in hypotheses that touch them."""
        used = _leaf_symbols(form.expr)
        changed = True
        while changed:
            changed = False
            for parameter in self.parameters:
                if parameter.symbol in used and parameter.is_sequence:
                    extra = parameter.length.free_symbols - used
                    if extra:
                        used |= extra
                        changed = True
            for hypothesis in self.hypotheses:
                if not hypothesis.applies_to(form):
                    continue
                symbols = _leaf_symbols(hypothesis.condition)
                if symbols & used and not symbols <= used:
                    used |= symbols
                    changed = True
        return tuple(p for p in self.parameters if p.symbol in used)

    @property
    def evaluable(self) -> bool:
        return bool(self.forms)


def _leaf_symbols(expr: sympy.Basic) -> set[sympy.Basic]:
    """Free symbols with indexed families collapsed to their base, index symbols dropped."""
    leaves: set[sympy.Basic] = set()
    for atom in expr.atoms(sympy.Symbol, sympy.IndexedBase):
        if atom in (INDEX, INNER):
            continue
        leaves.add(atom)
    for indexed in expr.atoms(sympy.Indexed):
        leaves.add(indexed.base)
        leaves.discard(indexed.base.label)
    # bound variables of Sum/Product are not free
    for node in expr.atoms(sympy.Sum, sympy.Product):
        for limit in node.limits:
            leaves.discard(limit[0])
    return leaves

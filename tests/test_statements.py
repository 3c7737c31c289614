"""The catalogue: every THEOREMS.md id declared once, with its parameter names, domains and tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy

import derivations
from derivations.statement import TAGS, Kind
from tests.catalogue_tasks import CATALOGUE

THEOREMS = Path(__file__).resolve().parents[2] / "shared" / "spec" / "THEOREMS.md"


def test_every_catalogue_id_is_declared_exactly_once():
    assert sorted(derivations.ids()) == sorted(CATALOGUE)
    assert len(derivations.ids()) == len(set(derivations.ids()))


@pytest.mark.skipif(not THEOREMS.exists(), reason="the spec is not beside the checkout")
def test_ids_match_the_spec_file():
    ids = set(re.findall(r"`([a-z0-9_]+\.[a-z0-9_.]+)`", THEOREMS.read_text()))
    ids = {i for i in ids if not i.endswith((".md", ".py"))}
    assert ids <= set(derivations.ids())


@pytest.mark.parametrize("statement_id", sorted(CATALOGUE))
def test_parameter_names_follow_the_catalogue(statement_id):
    names = {p.name for p in derivations.get(statement_id).parameters}
    assert set(CATALOGUE[statement_id]) <= names


@pytest.mark.parametrize("statement", derivations.statements(), ids=lambda s: s.id)
def test_declaration_is_complete(statement):
    assert statement.title and statement.source.reference and statement.source.locator
    assert all(component in TAGS for component in statement.tag.split("/"))
    if statement.kind is not Kind.IDENTITY:
        assert statement.forms
    for form in statement.forms:
        # the form's symbols are exactly declared parameters
        required = statement.required_parameters(form)
        assert required, f"{statement.id}[{form.name}] depends on no parameter"


def test_symbols_carry_domain_assumptions():
    lemma = derivations.get("schatten_ball.lemma_s1")
    symbols = lemma.symbols()
    assert symbols["eps"].is_positive and symbols["m"].is_integer and symbols["m"].is_positive
    assert lemma.parameter("p").domain.as_set() == sympy.Interval.open(0, 2)


def test_unknown_id_suggests_close_matches():
    with pytest.raises(KeyError, match="did you mean schatten_ball.lemma_s1"):
        derivations.get("schatten_ball.lemma_s")


def test_identities_have_no_numeric_default_but_have_claims():
    for statement_id in ("chen2024.lemma2_2", "chen2024.thm2_4"):
        statement = derivations.get(statement_id)
        assert statement.kind is Kind.IDENTITY and not statement.forms and statement.claims
        with pytest.raises(LookupError, match="derive"):
            statement.form()


def test_form_scoped_hypothesis_applies_only_to_its_form():
    from numerics.evaluation import ParameterError, evaluate

    # A&B 12.2: the sum holds for every m; m >= d is a hypothesis of the closed form only
    assert evaluate("anthony_bartlett1999.thm12_2", {"d": 5, "m": 3, "B": 1, "eps": "0.5"}).value
    with pytest.raises(ParameterError, match="m >= d"):
        evaluate("anthony_bartlett1999.thm12_2", {"d": 5, "m": 3, "B": 1, "eps": "0.5"}, form="closed_form")


def test_architecture_forms_are_derived_from_bhlm_theorem_6():
    """Chen's explicit forms substitute the architectures into BHLM-6 (notes A.9 sanity figures)."""
    from derivations.catalogue.pseudodimension import pdim_rank_r, pdim_two_layer

    california = float(pdim_two_layer(sympy.Integer(8192), sympy.Integer(8)))
    mnist_rank_two = float(pdim_rank_r(sympy.Integer(32768), sympy.Integer(784), sympy.Integer(2)))
    assert 3.1e6 < california < 3.25e6  # the notes: ~3.2e6
    assert 5.4e6 < mnist_rank_two < 5.6e6  # the notes: ~5.5e6
    # identical to evaluating the declaration of bhlm2019.thm6 by hand
    W1, W = 8192 * 9, 8192 * 8 + 2 * 8192 + 1
    by_hand = sympy.N(2 + (W1 + W) * sympy.log(4 * sympy.E * 8194 * sympy.log(2 * sympy.E * 8194, 2), 2), 30)
    assert abs(california - float(by_hand)) < 1e-6 * california


def test_a_form_with_its_own_confidence_carries_it():
    """The explicit (proved) form of Cor 3.9 is [P] under the statement's [R~]; a form without its own tag inherits."""
    statement = derivations.get("chen2024.cor3_9")
    assert statement.tag == "R~" and statement.tag_of("explicit") == "P"
    assert statement.tag_of("rate") == "R~"

"""Small deterministic factories for the catalogue tests: statement/form pairs and points."""

from __future__ import annotations

from derivations import statements
from derivations.statement import Form, Statement

#: every id of THEOREMS.md with the parameter names it lists (forms' own keys excluded)
CATALOGUE: dict[str, tuple[str, ...]] = {
    "schatten.quasinorm": ("sigma", "p"),
    "schatten.rank_proxy": ("sigma", "p"),
    "schatten.p_triangle": ("p",),
    "schatten.weight_decay_identity": ("L",),
    "candes_plan2011.lemma3_1": ("n1", "n2", "r", "eps"),
    "candes_plan2011.ball": ("n1", "n2", "r", "R", "eps"),
    "schatten_ball.lemma_s1": ("m", "n", "p", "R", "eps"),
    "schatten_ball.lemma_s1_proper": ("m", "n", "p", "R", "eps"),
    "schatten_ball.entropy_rates": ("N", "p", "q", "k"),
    "zhang2002.thm3": ("B", "C", "eps", "d"),
    "bartlett2017.lemma3_2": ("a", "b", "eps", "d", "m"),
    "bartlett2017.spectral_complexity": ("rho", "s", "b"),
    "bartlett2017.thm3_3": ("X_norm", "W", "s", "b", "rho", "eps"),
    "bartlett2017.margin_bound_explicit": ("n", "gamma", "delta", "X_norm", "W", "s", "b", "rho", "ramp_risk"),
    "neyshabur2018.thm1": ("B", "d", "h", "m", "gamma", "delta"),
    "arora2018.thm2_1": ("q", "r", "m", "gamma"),
    "golowich2018.thm1": ("m", "d", "M_F", "X"),
    "ledent2025.sample_complexity": ("W", "r", "L"),
    "ledent2025.thm3_6_repro": (),
    "ledent2025.thm3_7_repro": (),
    "derived.schatten_network_cover": ("d", "p", "R", "s", "rho", "X_norm", "gamma", "n", "delta"),
    "anthony_bartlett1999.thm17_1": ("eps", "N", "cover"),
    "anthony_bartlett1999.thm18_4": ("d", "B", "eps"),
    "anthony_bartlett1999.thm12_2": ("d", "m", "B", "eps"),
    "bhlm2019.thm6": ("L", "W", "Lbar", "breakpoints", "R"),
    "bhlm2019.thm3_lower": ("W", "L", "C"),
    "chen2024.thm3_8": ("W", "L", "C"),
    "chen2024.prop3_6": ("d", "N", "eps"),
    "chen2024.prop3_6_explicit": ("d", "N", "delta", "M"),
    "chen2024.cor3_9": ("m", "n", "N", "L", "C"),
    "chen2024.lemma3_10": ("m", "n", "r", "C"),
    "chen2024.thm3_11": ("m", "n", "r", "N", "L", "C"),
    "chen2024.lemma2_2": (),
    "chen2024.thm2_4": (),
    "chen2024.thm2_6": ("B", "eps", "mu"),
    "chen2024.prop_p1": ("B", "eps", "mu"),
    "oymak2019.info_nuisance": ("alpha",),
    "oymak2019.ntk_identity": ("k", "sigma_V"),
    "oymak2019.thm2_2": (),
    "oymak2019.thm2_3": (),
    "oymak2019.thm2_5": (),
    "oymak2019.full_rank": (),
    "langford2005.occam_kl": ("n", "errors", "bits", "delta"),
}


def statement_forms() -> list[tuple[Statement, Form]]:
    """Every (statement, form) pair of the catalogue."""
    return [(s, f) for s in statements() for f in s.forms]


def pair_id(pair: tuple[Statement, Form]) -> str:
    return f"{pair[0].id}[{pair[1].name}]"

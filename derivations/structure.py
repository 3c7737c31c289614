"""Structural rewriting of SymPy trees, without SymPy's automatic simplification.

:func:`unroll` replaces symbols by values, unrolls every ``Sum``/``Product`` whose limits
become numeric, and expands applied named functions by their ``Lambda`` definitions,
rebuilding each node with ``evaluate=False``. SymPy's own ``doit``/``subs`` would try to
simplify the unrolled terms (partial fractions, ``Min`` reductions) at a cost that grows
quickly with the number of terms, and its ``piecewise_fold`` can move a ``Piecewise``
whose condition depends on a summation index out of its ``Sum``, changing the meaning.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy


class ExpansionLimit(ValueError):
    """Unrolling would build a tree of more than the allowed number of nodes."""


def unroll(
    expr: sympy.Basic,
    constants: Mapping[sympy.Basic, sympy.Basic],
    functions: Mapping[sympy.FunctionClass, sympy.Lambda] | None = None,
    max_nodes: int | None = None,
) -> sympy.Basic:
    """``expr`` with ``constants`` substituted, finite sums/products unrolled and
    ``functions`` (applied named functions) expanded by their definitions.

    Raises :class:`ExpansionLimit` as soon as the result would have more than
    ``max_nodes`` nodes (counted as a tree: a repeated sub-expression counts each time).
    """
    definitions = dict(functions or {})
    built = 0

    def walk(node: sympy.Basic, env: dict[sympy.Basic, sympy.Basic]) -> sympy.Basic:
        nonlocal built
        built += 1
        if max_nodes is not None and built > max_nodes:
            raise ExpansionLimit(f"the expansion exceeds {max_nodes} nodes")
        if node in env:
            return env[node]
        if isinstance(node, sympy.Indexed):  # before the atom test: Indexed counts as an atom
            return node.base[tuple(sympy.Integer(_integer(index, env)) for index in node.indices)]
        if node.is_Atom:
            return node
        if isinstance(node, (sympy.Sum, sympy.Product)):
            (variable, low, high), *rest = node.limits
            body = node.function if not rest else node.func(node.function, *rest)
            terms = [walk(body, {**env, variable: sympy.Integer(k)}) for k in range(_integer(low, env), _integer(high, env) + 1)]
            if isinstance(node, sympy.Sum):
                return sympy.Add(*terms, evaluate=False) if terms else sympy.Integer(0)
            return sympy.Mul(*terms, evaluate=False) if terms else sympy.Integer(1)
        if isinstance(node, sympy.Piecewise):
            pairs = [(walk(pair.expr, env), walk(pair.cond, env)) for pair in node.args]
            return sympy.Piecewise(*pairs, evaluate=False)
        if isinstance(node, sympy.Function) and node.func in definitions:
            definition = definitions[node.func]
            arguments = {variable: walk(arg, env) for variable, arg in zip(definition.variables, node.args)}
            return walk(definition.expr, {**env, **arguments})
        return node.func(*(walk(arg, env) for arg in node.args), evaluate=False)

    return walk(expr, dict(constants))


def _integer(expr: sympy.Basic, env: Mapping[sympy.Basic, sympy.Basic]) -> int:
    value = expr.xreplace(dict(env))
    if not value.is_Integer:
        raise ValueError(f"limit or index {expr} is not an integer once the shape parameters are fixed")
    return int(value)

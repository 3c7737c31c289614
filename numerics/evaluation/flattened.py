"""Long sums and products as calls, for the translators that generate Python source.

``lambdify`` prints a sum as ``a + b + c + ...``, which Python parses into a left-deep
tree: an unrolled sum of a few thousand terms exceeds the compiler's recursion limit.
Written as calls ``_rankbound_sum(a, b, c, ...)`` they compile at any length. Each
translator maps the two names to its own n-ary sum and product (:data:`SUM`,
:data:`PRODUCT`); sub-expressions without a long operation are returned unchanged.
"""

from __future__ import annotations

import sympy

SUM = sympy.Function("_rankbound_sum")
PRODUCT = sympy.Function("_rankbound_product")
#: sums and products with more operands than this become calls
MAX_OPERANDS = 64


def long_operations_as_calls(expr: sympy.Basic) -> sympy.Basic:
    """``expr`` with every ``Add``/``Mul`` of more than ``MAX_OPERANDS`` operands
    replaced by a call of :data:`SUM`/:data:`PRODUCT` on the same operands."""
    done: dict[sympy.Basic, sympy.Basic] = {}

    def walk(node: sympy.Basic) -> sympy.Basic:
        if node.is_Atom or not node.args:
            return node
        if node in done:
            return done[node]
        if isinstance(node, sympy.Piecewise):
            pairs = [(walk(pair.expr), walk(pair.cond)) for pair in node.args]
            changed = any(new != (pair.expr, pair.cond) for new, pair in zip(pairs, node.args))
            result = sympy.Piecewise(*pairs, evaluate=False) if changed else node
        else:
            args = [walk(arg) for arg in node.args]
            if isinstance(node, (sympy.Add, sympy.Mul)) and len(args) > MAX_OPERANDS:
                result = (SUM if isinstance(node, sympy.Add) else PRODUCT)(*args)
            elif any(new is not old for new, old in zip(args, node.args)):
                result = node.func(*args, evaluate=False)
            else:
                result = node
        done[node] = result
        return result

    return walk(expr)

"""Mutants of a reference solution, made from its syntax tree (pure: source in, sources out).

Each mutant changes one thing in one graded function: an arithmetic, augmented or comparison
operator swapped, a number x2 or x1/2, `sum` <-> `mean`, a `reshape` / `view` / `transpose` /
`.T` dropped, two arguments or operands swapped, a statement removed, `.detach()` added to a
returned or assigned value, in place <-> out of place, `with torch.no_grad():` removed.

A line of the reference marked `# mutation: free (why)` holds a choice the contract leaves
free (an initialisation, say): a mutant that changes nothing else carries that reason, and
`grader.authoring.strength` reports it as free by the contract when it survives.
"""
from __future__ import annotations

import ast
import copy
import difflib
import io
import random
import re
import tokenize
from dataclasses import dataclass
from typing import Callable, Iterator

BINOPS: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                            ast.Pow: ast.Mult, ast.MatMult: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
CMPOPS: dict[type, type] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
                            ast.NotIn: ast.In}
NONCOMMUTATIVE = (ast.Sub, ast.Div, ast.MatMult, ast.Pow, ast.FloorDiv, ast.Mod)
REDUCTIONS = {"sum": "mean", "mean": "sum"}
SHAPERS = {"reshape", "view", "transpose", "t", "permute", "flatten", "squeeze", "unsqueeze"}
INPLACE = {"add_": "add", "sub_": "sub", "mul_": "mul", "div_": "div", "clamp_": "clamp", "relu_": "relu"}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
          ast.FloorDiv: "//", ast.Mod: "%", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
          ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


@dataclass(frozen=True)
class Mutant:
    """One mutation of one function: what changed, where, the whole module and the diff."""

    function: str
    index: int  # its number among the function's mutants
    operator: str  # e.g. "`-` -> `+`"
    line: int  # in the original source
    source: str  # the whole mutated module
    diff: str  # of the function alone
    free: str = ""  # why the lines it changes are free by the contract ("" when they are not)


Edit = Callable[[], None]  # applies one mutation in place, to a copy of the tree
Span = tuple[int, int]  # the first and last line of the source a mutation changes


def _span(*nodes: ast.AST) -> Span:
    return (min(getattr(n, "lineno", 0) for n in nodes),
            max(getattr(n, "end_lineno", None) or getattr(n, "lineno", 0) for n in nodes))


def _sites(fn: ast.FunctionDef | ast.AsyncFunctionDef, torch: bool = True) -> Iterator[tuple[Span, str, Edit]]:
    """(lines changed, description, edit) of every mutation of `fn`, in a stable order (`.detach()`
    only where `torch`: on numpy code it would only ever fail loudly)."""
    for node in ast.walk(fn):
        parent_body = _bodies(node)
        for field, body in parent_body:
            for i, stmt in enumerate(body):
                if _is_docstring(body, i) or (len(body) == 1 and isinstance(stmt, ast.Pass)):
                    continue
                yield _span(stmt), f"removed `{_short(stmt)}`", _replacer(body, i, [ast.Pass()])
                if isinstance(stmt, ast.With) and any(_is_no_grad(item.context_expr) for item in stmt.items):
                    yield _span(stmt), "removed `with torch.no_grad()`", _replacer(body, i, stmt.body)
                if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                    out_of_place = ast.Assign([ast.Name(stmt.target.id, ast.Store())],
                                              ast.BinOp(ast.Name(stmt.target.id, ast.Load()), stmt.op, stmt.value))
                    yield _span(stmt), f"in place -> out of place (`{stmt.target.id} = {stmt.target.id} "\
                                       f"{SYMBOL.get(type(stmt.op), '?')} ...`)", _replacer(body, i, [out_of_place])
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                        and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.left, ast.Name) \
                        and stmt.value.left.id == stmt.targets[0].id:
                    in_place = ast.AugAssign(ast.Name(stmt.targets[0].id, ast.Store()), stmt.value.op,
                                             stmt.value.right)
                    yield _span(stmt), "out of place -> in place", _replacer(body, i, [in_place])
                if torch and isinstance(stmt, (ast.Return, ast.Assign)) and stmt.value is not None \
                        and not isinstance(stmt.value, (ast.Constant, ast.Tuple, ast.List, ast.Dict)):
                    yield _span(stmt), "added `.detach()`", _detacher(stmt)
        yield from _expression_sites(node)


def _expression_sites(node: ast.AST) -> Iterator[tuple[Span, str, Edit]]:
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOPS:
        new = BINOPS[type(node.op)]
        yield _span(node), f"`{SYMBOL[type(node.op)]}` -> `{SYMBOL[new]}`", _setter(node, "op", new())
    if isinstance(node, ast.BinOp) and isinstance(node.op, NONCOMMUTATIVE):
        yield _span(node), f"swapped the operands of `{SYMBOL[type(node.op)]}`", _swap_operands(node)
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            if type(op) in CMPOPS:
                new = CMPOPS[type(op)]
                yield _span(node), f"`{SYMBOL[type(op)]}` -> `{SYMBOL[new]}`", _list_setter(node.ops, k, new())
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value != 0:
        for factor, word in ((2, "x2"), (0.5, "x1/2")):
            value = node.value * factor
            if type(node.value) is int and factor == 0.5:
                value = node.value // 2 if node.value // 2 != node.value else node.value * 2
            if value != node.value:
                yield _span(node), f"`{node.value!r}` {word} -> `{value!r}`", _setter(node, "value", value)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in REDUCTIONS and isinstance(func, ast.Attribute):
            yield _span(node), f"`{name}` -> `{REDUCTIONS[name]}`", _setter(func, "attr", REDUCTIONS[name])
        if name in SHAPERS and isinstance(func, ast.Attribute):
            if not (isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy", "torch")):
                yield _span(node), f"dropped `.{name}(...)`", _call_dropper(node, func.value)
            elif node.args:
                yield _span(node), f"dropped `{func.value.id}.{name}(...)`", _call_dropper(node, node.args[0])
        if name in INPLACE and isinstance(func, ast.Attribute):
            yield _span(node), f"`{name}` -> out of place `{INPLACE[name]}`", _setter(func, "attr", INPLACE[name])
        if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
            yield (_span(node.args[0], node.args[1]), f"swapped the first two arguments of `{name or 'a call'}`",
                   _swap_args(node))
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT") and isinstance(node.ctx, ast.Load):
        yield _span(node), f"dropped `.{node.attr}`", _attribute_dropper(node)


# The edits record a path to the node (found again in the copy) rather than the node itself.
def _setter(node: ast.AST, attr: str, value: object) -> Edit:
    return lambda: setattr(node, attr, value)


def _list_setter(items: list, k: int, value: object) -> Edit:
    return lambda: items.__setitem__(k, value)


def _replacer(body: list, i: int, new: list) -> Edit:
    return lambda: body.__setitem__(slice(i, i + 1), new)


def _swap_operands(node: ast.BinOp) -> Edit:
    def edit() -> None:
        node.left, node.right = node.right, node.left
    return edit


def _swap_args(node: ast.Call) -> Edit:
    def edit() -> None:
        node.args[0], node.args[1] = node.args[1], node.args[0]
    return edit


def _detacher(stmt: ast.Return | ast.Assign) -> Edit:
    def edit() -> None:
        stmt.value = ast.Call(ast.Attribute(stmt.value, "detach", ast.Load()), [], [])
    return edit


def _call_dropper(call: ast.Call, keep: ast.expr) -> Edit:
    """Make `call` evaluate to `keep` (its receiver or first argument)."""
    def edit() -> None:
        new = copy.copy(keep)
        call.__class__ = new.__class__
        call.__dict__.clear()
        call.__dict__.update(new.__dict__)
    return edit


def _attribute_dropper(node: ast.Attribute) -> Edit:
    return _call_dropper(node, node.value)  # type: ignore[arg-type]


def _bodies(node: ast.AST) -> list[tuple[str, list]]:
    return [(f, getattr(node, f)) for f in ("body", "orelse", "finalbody")
            if isinstance(getattr(node, f, None), list) and getattr(node, f) and isinstance(getattr(node, f)[0], ast.stmt)]


def _is_docstring(body: list, i: int) -> bool:
    stmt = body[i]
    return i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def _is_no_grad(expr: ast.expr) -> bool:
    func = expr.func if isinstance(expr, ast.Call) else expr
    return isinstance(func, ast.Attribute) and func.attr in ("no_grad", "inference_mode")


def _short(stmt: ast.stmt) -> str:
    text = ast.unparse(stmt).splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "..."


FREE_MARK = re.compile(r"#\s*mutation:\s*free\b\s*(?:\((?P<paren>.*)\)|[-:]?\s*(?P<plain>.*))")


def free_lines(source: str) -> dict[int, str]:
    """Line -> reason, for each line marked `# mutation: free (reason)` (that line only: the
    author keeps on it nothing but the free choice, breaking a statement across lines if need be)."""
    marked: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            found = FREE_MARK.match(token.string) if token.type == tokenize.COMMENT else None
            if found:
                why = (found.group("paren") or found.group("plain") or "").strip()
                marked[token.start[0]] = why or "marked free in the reference"
    except (tokenize.TokenError, SyntaxError):
        return {}
    return marked


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def mutants(source: str, function: str, limit: int | None = None, header: str = "") -> list[Mutant]:
    """The distinct mutants of `function` in the module `source` (at most `limit`, a fixed sample).

    Each mutant's source is `header` + the unparsed module; mutants whose module unparses the
    same as the original or as an earlier mutant are left out. A mutant whose change lies on
    lines marked free (`free_lines`) carries their reason."""
    tree = ast.parse(source)
    free = free_lines(source)
    original_fn = _function(tree, function)
    if original_fn is None:
        raise LookupError(f"the reference does not define {function}")
    baseline = ast.unparse(tree)
    torch = "torch" in source and "np." not in ast.unparse(original_fn)
    count = sum(1 for _ in _sites(original_fn, torch))
    seen = {baseline}
    found: list[Mutant] = []
    before = ast.unparse(original_fn).splitlines()
    for k in range(count):
        copy_tree = copy.deepcopy(tree)
        fn = _function(copy_tree, function)
        assert fn is not None
        (line, end), what, edit = next(s for i, s in enumerate(_sites(fn, torch)) if i == k)
        edit()
        try:
            text = ast.unparse(ast.fix_missing_locations(copy_tree))
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError, AttributeError):
            continue
        if text in seen:
            continue
        seen.add(text)
        after = ast.unparse(fn).splitlines()
        diff = "\n".join(list(difflib.unified_diff(before, after, lineterm="", n=1))[2:])
        reasons = [free.get(k) for k in range(line, end + 1)]
        why = "; ".join(dict.fromkeys(reasons)) if all(reasons) else ""  # type: ignore[arg-type]
        found.append(Mutant(function, 0, what, line, header + text + "\n", diff, why))
    if limit is not None and len(found) > limit:
        found = sorted(random.Random(f"{function}:{len(found)}").sample(found, limit), key=lambda m: m.line)
    return [Mutant(m.function, i, m.operator, m.line, m.source, m.diff, m.free) for i, m in enumerate(found, 1)]

"""Solution markers: a solution source in, the student's stub out (pure text to text).

In a percent-format solution (`# %%` cells):
- the lines between `### BEGIN SOLUTION` and `### END SOLUTION` (comments on their own lines)
  become one placeholder at the BEGIN marker's indentation: `raise NotImplementedError(...)`
  naming the enclosing function, or the code the marker names (`### BEGIN SOLUTION: return None`);
- a line of code ending in the comment `# SOLUTION` (or `# SOLUTION: CODE`) becomes the same
  placeholder; consecutive such lines share one;
- a cell whose header carries the tag `solution-only` is dropped, header included.
Everything else (markdown, given helpers, `skip-grading` cells, the `# exercise: N` marker)
is kept byte for byte. Markers are found with `tokenize`, so a marker inside a string is an
error, never a silent cut.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

BEGIN = re.compile(r"###\s*BEGIN SOLUTION\s*(?::\s*(?P<code>.*?))?\s*$")
END = re.compile(r"###\s*END SOLUTION\s*$")
LINE = re.compile(r"#\s*SOLUTION\s*(?::\s*(?P<code>.*?))?\s*$")
IN_STRING = re.compile(r"(BEGIN|END) SOLUTION|#\s*SOLUTION\b")
CELL = re.compile(r"^# %%")
SOLUTION_ONLY = "solution-only"
DEFAULT = 'raise NotImplementedError("{where}write your code here")'
# f-strings' text is its own token from Python 3.12 on
STRING_TOKENS = {tokenize.STRING} | ({tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())


class MarkerError(ValueError):
    """The solution's markers cannot be applied; str() is one line with the line number."""


@dataclass(frozen=True)
class Region:
    """Lines first..last (1-based, inclusive) replaced by `placeholder` at `indent`."""

    first: int
    last: int
    indent: str
    placeholder: str | None  # None: the default, naming the enclosing function
    lines: bool = False  # made of `# SOLUTION` lines (not a BEGIN/END block)


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        line = getattr(exc, "lineno", None) or (exc.args[1][0] if len(exc.args) > 1 else "?")
        raise MarkerError(f"line {line}: not valid Python ({exc.args[0]})") from None


def regions(text: str) -> list[Region]:
    """The solution regions of `text`, in order; MarkerError when the markers do not balance."""
    lines = text.splitlines()
    found: list[Region] = []
    begin: tuple[int, str, str | None] | None = None
    for tok in _tokens(text):
        row = tok.start[0]
        if tok.type in STRING_TOKENS and IN_STRING.search(tok.string):
            raise MarkerError(f"line {row}: a solution marker inside a string (markers must be comments)")
        if tok.type != tokenize.COMMENT:
            continue
        before = lines[row - 1][:tok.start[1]]
        own_line = not before.strip()
        if BEGIN.match(tok.string):
            if not own_line:
                raise MarkerError(f"line {row}: `### BEGIN SOLUTION` must be on a line of its own")
            if begin is not None:
                raise MarkerError(f"line {row}: `### BEGIN SOLUTION` inside the solution begun on line {begin[0]}")
            begin = (row, before, BEGIN.match(tok.string).group("code") or None)  # type: ignore[union-attr]
        elif END.match(tok.string):
            if begin is None:
                raise MarkerError(f"line {row}: `### END SOLUTION` without a `### BEGIN SOLUTION` before it")
            found.append(Region(begin[0], row, begin[1], begin[2]))
            begin = None
        elif LINE.match(tok.string) and not tok.string.startswith("###"):
            if own_line:
                raise MarkerError(f"line {row}: `# SOLUTION` must end a line of code")
            if begin is not None:
                raise MarkerError(f"line {row}: `# SOLUTION` inside the solution begun on line {begin[0]}")
            code = LINE.match(tok.string).group("code") or None  # type: ignore[union-attr]
            indent = before[:len(before) - len(before.lstrip())]
            last = found[-1] if found else None
            if last is not None and last.lines and last.last == row - 1 and last.indent == indent:
                found[-1] = Region(last.first, row, indent, last.placeholder, lines=True)
            else:
                found.append(Region(row, row, indent, code, lines=True))
    if begin is not None:
        raise MarkerError(f"line {begin[0]}: `### BEGIN SOLUTION` is never closed by `### END SOLUTION`")
    return found


def _functions(text: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise MarkerError(f"line {exc.lineno}: not valid Python ({exc.msg})") from None
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _enclosing(functions: list[ast.FunctionDef | ast.AsyncFunctionDef], line: int) -> str | None:
    inside = [f for f in functions if f.lineno <= line <= (f.end_lineno or f.lineno)]
    return max(inside, key=lambda f: f.lineno).name if inside else None


def strip_solutions(text: str) -> str:
    """`text` (Python source) with every solution region replaced by its placeholder."""
    found = regions(text)
    if not found:
        return text
    functions = _functions(text)
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    cursor = 0
    for region in found:
        out.extend(lines[cursor:region.first - 1])
        name = _enclosing(functions, region.first)
        code = region.placeholder or DEFAULT.format(where=f"{name}: " if name else "")
        out.append(f"{region.indent}{code}\n")
        cursor = region.last
    out.extend(lines[cursor:])
    return "".join(out)


def drop_solution_only_cells(text: str) -> str:
    """A percent-format script without its cells tagged `solution-only` (header to next header)."""
    out: list[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        if CELL.match(line):
            dropping = SOLUTION_ONLY in _tags(line)
        if not dropping:
            out.append(line)
    return "".join(out)


def _tags(header: str) -> list[str]:
    match = re.search(r"tags\s*=\s*(\[[^\]]*\])", header)
    if not match:
        return []
    try:
        tags = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return []
    return [t for t in tags if isinstance(t, str)]


def assign(text: str) -> str:
    """The student's stub of the percent-format solution `text`; MarkerError if it cannot be made."""
    stub = strip_solutions(drop_solution_only_cells(text))
    try:
        ast.parse(stub)
    except SyntaxError as exc:
        raise MarkerError(f"the stub would not be valid Python: line {exc.lineno}: {exc.msg} "
                          "(does a marker cut a statement in half?)") from None
    return stub


def check_functions(solution: str, stub: str, graded: list[str]) -> None:
    """MarkerError unless every graded function is defined at the top of the solution and of the
    stub, and none keeps its solution in the stub."""
    sol = _top_level(solution)
    missing = [f for f in graded if f not in sol]
    if missing:
        raise MarkerError(f"the solution does not define {', '.join(missing)} (graded in this exercise)")
    got = _top_level(stub)
    gone = [f for f in graded if f not in got]
    if gone:
        raise MarkerError(f"the stub would lose {', '.join(gone)}: put the markers inside the function's body")
    kept = [f for f in graded if not _has_placeholder(got[f]) and _body_code(sol[f]) == _body_code(got[f])]
    if kept:
        raise MarkerError(f"{', '.join(kept)} would keep the solution in the stub: mark the body with "
                          "`### BEGIN SOLUTION` / `### END SOLUTION`")


def _top_level(text: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(text)
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _body_code(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and \
        isinstance(fn.body[0].value, ast.Constant) and isinstance(fn.body[0].value.value, str) else fn.body
    return "\n".join(ast.dump(s) for s in body)


def _has_placeholder(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The stub's function raises NotImplementedError somewhere (or its body differs, see caller)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False

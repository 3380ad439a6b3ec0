"""Which of torch's lazily imported modules a submission wants preloaded, told cheaply from its code.

Some torch calls import a large module the first time they run, in each worker that makes them,
where the warm parent could have imported it once (garbage collection off) for every worker
it forks, when asked by `grader.sandbox.warm_hints`:

- torch._dynamo: the first `torch.optim` optimizer made (its methods are wrapped by
  `torch._disable_dynamo`) or `torch.compile`: about 1.1 s of CPU per worker, 0.7 s once ahead.
- torch.fx.experimental.symbolic_shapes (and sympy): the first gradient given explicitly,
  `y.backward(gradient)` or `torch.autograd.grad(..., grad_outputs)`, and so every
  `torch.autograd.functional` helper (`vjp`, `jacobian`, ...): about 0.4-0.6 s per worker.

A submission whose code (comments, string literals and a notebook's markdown left out: the
exercise's own stub says "no `torch.optim`") names one of these has its module preloaded. The
test only decides what is imported ahead: a submission that reaches them some other way imports
them itself, as before, and grades the same; a preload it did not need costs the warm parent
an import (for a cold grade, the worker waits for it), no more.
"""
from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path
from typing import Iterable

WANTS_DYNAMO = re.compile(r"\boptim\b|\btorch\s*\.\s*compile\b|\b_dynamo\b")
# .backward( with a first argument (not only retain_graph=, create_graph=, inputs=), grad_outputs,
# and torch.autograd.functional's helpers
WANTS_SHAPES = re.compile(r"\.\s*backward\s*\((?!\s*(?:\)|retain_graph\b|create_graph\b|inputs\b))|\bgrad_outputs\b|"
                          r"\bautograd\s*\.\s*functional\b|\b(?:jacobian|hessian|vjp|jvp|vhp|hvp)\b")
WANTED = (("torch._dynamo", WANTS_DYNAMO), ("torch.fx.experimental.symbolic_shapes", WANTS_SHAPES))
_DROPPED = {tokenize.COMMENT, tokenize.STRING, *(getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE",
                                                                                 "FSTRING_END") if hasattr(tokenize, n))}


def wanted(code: str) -> tuple[str, ...]:
    """The modules of `WANTED` whose calls `code` names (outside comments and strings)."""
    bare = _bare(code)
    return tuple(module for module, pattern in WANTED if pattern.search(bare) is not None)


def _bare(code: str) -> str:
    """`code`'s tokens without comments and string literals; the text as it is where it does
    not tokenize (a cell with shell escapes, a file mid-edit)."""
    kept: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type not in _DROPPED:
                kept.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        return code
    return " ".join(kept)


def any_wanted(paths: Iterable[tuple[Path, Path | None]]) -> tuple[str, ...]:
    """The modules any of these submissions (path, the folder it must stay in) wants, in
    `WANTED`'s order; a file that cannot be read safely wants none (the grade itself reports it)."""
    found: set[str] = set()
    for path, root in paths:
        try:
            for source in _sources(path, root):
                found.update(wanted(source))
        except Exception:  # noqa: BLE001 - unreadable, not UTF-8, not a notebook: no hint
            continue
        if len(found) == len(WANTED):
            break
    return tuple(module for module, _ in WANTED if module in found)


def _sources(path: Path, root: Path | None) -> list[str]:
    """The code a submission runs: the file, or a notebook's code cells (from its JSON as it is:
    nbformat is not imported yet)."""
    import json

    from grader.intake.load import read_text
    from grader.intake.notebook import code_cells

    text = read_text(path, root)
    if not any(pattern.search(text) for _, pattern in WANTED):  # nor, then, in its code alone
        return []
    if path.suffix.lower() == ".ipynb":
        return [source for _, source in code_cells(path, json.loads(text))]
    return [text]

"""Which of torch's lazily imported modules a submission wants preloaded, told cheaply from its bytes.

Some torch calls import a large module the first time they run, in each worker that makes them,
where the warm parent could have imported it once (garbage collection off) for every worker
it forks, when asked by `grader.sandbox.warm_hints`:

- torch._dynamo: the first `torch.optim` optimizer made (its methods are wrapped by
  `torch._disable_dynamo`) or `torch.compile`: about 1.1 s of CPU per worker, 0.7 s once ahead.
- torch.fx.experimental.symbolic_shapes (and sympy): the first gradient given explicitly,
  `y.backward(gradient)` or `torch.autograd.grad(..., grad_outputs)`, and so every
  `torch.autograd.functional` helper (`vjp`, `jacobian`, ...): about 0.4-0.6 s per worker.

A submission whose text names one of these has its module preloaded. The test only decides what
is imported ahead: a submission that reaches them some other way imports them itself, as
before, and grades the same; one named in a comment costs the warm parent an import, no more.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

WANTS_DYNAMO = re.compile(rb"\boptim\b|torch\s*\.\s*compile\b|_dynamo\b")
# .backward( with a first argument (not only retain_graph=, create_graph=, inputs=), grad_outputs,
# and torch.autograd.functional's helpers
WANTS_SHAPES = re.compile(rb"\.backward\s*\((?!\s*(?:\)|retain_graph\b|create_graph\b|inputs\b))|\bgrad_outputs\b|"
                          rb"autograd\s*\.\s*functional\b|\b(?:jacobian|hessian|vjp|jvp|vhp|hvp)\b")
WANTED = (("torch._dynamo", WANTS_DYNAMO), ("torch.fx.experimental.symbolic_shapes", WANTS_SHAPES))


def wanted(data: bytes) -> tuple[str, ...]:
    """The modules of `WANTED` whose calls a submission's bytes name."""
    return tuple(module for module, pattern in WANTED if pattern.search(data) is not None)


def any_wanted(paths: Iterable[tuple[Path, Path | None]]) -> tuple[str, ...]:
    """The modules any of these submissions (path, the folder it must stay in) wants, in
    `WANTED`'s order; a file that cannot be read safely wants none (the grade itself reports it)."""
    from grader.errors import UsageError
    from grader.intake.load import read_bytes

    found: set[str] = set()
    for path, root in paths:
        try:
            found.update(wanted(read_bytes(path, root)))
        except (UsageError, OSError):
            continue
        if len(found) == len(WANTED):
            break
    return tuple(module for module, _ in WANTED if module in found)

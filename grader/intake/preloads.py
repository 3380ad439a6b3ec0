"""Whether a submission wants torch._dynamo preloaded, told cheaply from its bytes.

torch imports torch._dynamo the first time a `torch.optim` optimizer is made (its methods are
wrapped by `torch._disable_dynamo`) or `torch.compile` runs: about 1.1 s of CPU in each worker
that does it, against 0.7 s once in the warm parent, asked for by `grader.sandbox.warm_hints`.
A submission whose text names either has it preloaded. The test only decides what is
imported ahead: a submission that reaches them some other way imports them itself, as before,
and grades the same.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

WANTS_DYNAMO = re.compile(rb"\boptim\b|torch\s*\.\s*compile\b|_dynamo\b")


def wants_dynamo(data: bytes) -> bool:
    """Whether a submission's bytes name torch.optim, torch.compile or torch._dynamo."""
    return WANTS_DYNAMO.search(data) is not None


def any_wants_dynamo(paths: Iterable[tuple[Path, Path | None]]) -> bool:
    """Whether any of these submissions (path, the folder it must stay in) wants it; a file
    that cannot be read safely counts as not (the grade itself reports it)."""
    from grader.errors import UsageError
    from grader.intake.load import read_bytes

    for path, root in paths:
        try:
            if wants_dynamo(read_bytes(path, root)):
                return True
        except (UsageError, OSError):
            continue
    return False

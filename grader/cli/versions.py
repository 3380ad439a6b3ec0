"""`grade --version`: the grader's, torch's, numpy's and Python's versions, from package metadata
(importlib.metadata: nothing is imported, so the judge never imports torch for it)."""
from __future__ import annotations

import platform
from importlib import metadata

DISTRIBUTION = "honest-grader"


def version_of(distribution: str) -> str:
    """The installed version of `distribution`, or "not installed"."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def rows() -> list[tuple[str, str]]:
    """(name, version) of the grader, torch, numpy and Python."""
    from grader import __version__

    grader = version_of(DISTRIBUTION)
    return [("grader", __version__ if grader == "not installed" else grader), ("torch", version_of("torch")),
            ("numpy", version_of("numpy")), ("python", f"{platform.python_version()} ({platform.python_implementation()})")]


def text() -> str:
    """One line: `grade (honest-grader) 0.1.0; torch 2.x; numpy 2.x; Python 3.11.9 (CPython)`."""
    (_, grader), *others = rows()
    return f"grade ({DISTRIBUTION}) {grader}; " + "; ".join(f"{k} {v}" for k, v in others)

"""grader: an honest autograder for deep-learning basics with numpy and PyTorch.

`grader.grade_path(path, options)` grades one file, `grader.grade_class(folder, out)` a class
(`grader.options(seed=...)` makes the options). They are imported on first use: `import grader`
stays cheap (no numpy, no torch).
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["grade_path", "grade_class", "options", "Options", "GradeResult", "check", "__version__"]

_LAZY = {"grade_path": "grader.api", "grade_class": "grader.api", "options": "grader.api",
         "Options": "grader.judge.grade", "GradeResult": "grader.results.model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")



def check(path=None, **options):  # type: ignore[no-untyped-def]
    """Grade a notebook (default: the one this kernel runs) or a .py file; show the report.

    See grader.interactive.check.check (imported only when called: `import grader` stays cheap)."""
    from grader.interactive.check import check as _check

    return _check(path, **options)


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """`%load_ext grader`: adds the `%grade` line magic."""
    from grader.interactive.magic import load

    load(ipython)


from grader import bytecode as _bytecode  # noqa: E402

_bytecode.install()  # the package's bytecode in the user's cache, where the environment writes none

"""Run notebook cells with Jupyter's semantics inside the worker, without a kernel.

An IPython InteractiveShell (no history database, no display hooks beyond plain text)
turns magics and `!` lines into Python; the worker then compiles each cell under its own
name (`exercise3.ipynb [cell 4]`) so tracebacks point at the student's cell and line.
Package installers are not run: a `!pip install` cell never changes the grader's
environment.
"""
from __future__ import annotations

import re
from typing import Any

REFUSED = re.compile(r"^\s*(%?pip|%?conda|mamba|apt(-get)?|python3?\s+-m\s+pip|sudo)\b")
_SHELL: Any = None


def shell() -> Any:
    """The worker's InteractiveShell, made on first use (the warm parent makes it before it forks
    notebook workers: `grader.sandbox.notebook_shell`)."""
    global _SHELL
    if _SHELL is None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "NoColor"
        _SHELL = InteractiveShell.instance(config=config)
        _guard_installs(_SHELL)
    return _SHELL


def _guard_installs(sh: Any) -> None:
    """`!pip install ...`, `%pip`, `%conda`: print a note instead of running them."""
    system = sh.system

    def guarded(cmd: str) -> Any:
        if REFUSED.match(cmd):
            print(f"[grader] not run during grading: !{cmd}")
            return None
        return system(cmd)

    sh.system = guarded
    sh.system_raw = guarded
    for name in ("pip", "conda", "mamba"):
        sh.register_magic_function(lambda line, _n=name: print(f"[grader] not run during grading: %{_n} {line}"),
                                   "line", name)


def namespace() -> dict[str, Any]:
    """The notebook's global namespace (the shell's user namespace, `__name__ == '__main__'`)."""
    return shell().user_ns


def transform_cell(source: str) -> str:
    """IPython syntax (magics, `!` lines, `?` help) -> plain Python."""
    return shell().transform_cell(source)

"""Run notebook cells with Jupyter's semantics inside the worker, without a kernel.

An IPython InteractiveShell (no history database, no display hooks beyond plain text)
turns magics and `!` lines into Python; the worker then compiles each cell under its own
name (`exercise3.ipynb [cell 4]`) so tracebacks point at the student's cell and line.
Package installers are not run: a `!pip install` cell never changes the grader's
environment.
"""
from __future__ import annotations

import re
import sys
import types
from typing import Any

_MAIN = sys.modules.get("__main__")  # the process's own, before any shell
REFUSED = re.compile(r"^\s*(%?pip|%?conda|mamba|apt(-get)?|python3?\s+-m\s+pip|sudo)\b")
_SHELL: Any = None


def shell() -> Any:
    """The worker's InteractiveShell, made on first use (the warm parent makes it before it forks
    notebook workers, then takes back what it put in the process's globals: `prepare`)."""
    global _SHELL
    if _SHELL is None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "NoColor"
        _SHELL = InteractiveShell.instance(config=config)
        _guard_installs(_SHELL)
    elif _DETACHED:
        _attach()
    return _SHELL


_DETACHED: dict[str, Any] = {}  # what `prepare` took back: the shell's builtins


def prepare() -> None:
    """Make the shell in the warm parent, then undo what it did to the process's globals (its
    builtins, `__main__`), so that workers that never use it (a .py file, a plain notebook) see
    none of it; `shell()` puts them back in the worker that does."""
    import builtins

    made = shell()
    for name in ("display", "get_ipython", "__IPYTHON__"):
        if name in builtins.__dict__:
            _DETACHED[name] = builtins.__dict__.pop(name)
    if sys.modules.get("__main__") is made.user_module:
        sys.modules["__main__"] = _MAIN
    _DETACHED["__main__"] = made.user_module


def _attach() -> None:
    import builtins

    main = _DETACHED.pop("__main__", None)
    builtins.__dict__.update(_DETACHED)
    _DETACHED.clear()
    if main is not None:
        sys.modules["__main__"] = main


def plain_namespace() -> dict[str, Any]:
    """Jupyter's namespace for cells that need no IPython (`intake/cell_syntax.py`): a fresh
    `__main__` module, without a shell."""
    module = types.ModuleType("__main__")
    sys.modules["__main__"] = module
    return module.__dict__


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

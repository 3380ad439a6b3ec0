"""Notebooks whose cells need no IPython run without it; anything in doubt keeps IPython."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, grade
from grader.intake.cell_syntax import need_ipython, notebook_needs_ipython, without_leading_blank_lines
from grader.intake.load import read_submission


@pytest.mark.parametrize("cells", [
    ["import torch\n", "def f(x):\n    return x + 1\n", "f(2)\n"],
    ["x = 1\n", "x\n"],                       # a bound name alone: shown, not a magic
    ["print('hi')\n"],                         # a builtin first
    ["for _ in range(3):\n    pass\n", "_\n"],  # `_` bound by the notebook itself
    ["\n\n  # indented comment after blank lines\nx = 1\n"[2:].lstrip(" ") if False else "\n\nx = 1\n"],
    ["s = '''\n%d items\n!not a shell line\n'''\n"],  # magics only at a line's start, not in strings
    ["import numpy as np\n", "np.zeros(3)\n"],
])
def test_plain_cells(cells: list[str]) -> None:
    assert not need_ipython(cells)


@pytest.mark.parametrize("cells", [
    ["%time x = 1\n"], ["!ls\n"], ["x = !ls\n"], ["%%time\nx = 1\n"], ["x = 1\n", "x?\n"], ["?x\n"],
    ["    x = 1\n    y = 2\n"],               # IPython dedents a cell
    [">>> x = 1\n"], ["In [1]: x = 1\n"],     # prompts IPython strips
    ["ls -la\n"], ["pwd\n"], ["who\n"],       # automagic: a one-liner starting with an unbound name
    ["display(1)\n"], ["print(In[1])\n"], ["Out\n"], ["print(_)\n"], ["print(_3)\n"], ["get_ipython()\n"],
    ["from IPython.display import *\n", "display(2)\n"],
    ["def f(:\n"],                             # a syntax error: IPython's own message
    ["x = 1\n", "exit()\n"],                    # IPython's exit asks the shell to stop; site's raises
])
def test_cells_that_keep_ipython(cells: list[str]) -> None:
    assert need_ipython(cells)


def test_leading_blank_lines_go_as_in_ipython() -> None:
    assert without_leading_blank_lines("\n  \nx = 1\n\ny = 2\n") == "x = 1\n\ny = 2\n"
    assert without_leading_blank_lines("\n\n") == "\n\n"


def _notebook(path: Path, sources: list[str]) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s, "id": f"c{i}"}
             for i, s in enumerate(sources)]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    return path


def test_a_plain_notebook_runs_in_a_main_namespace_without_ipython(tmp_path: Path) -> None:
    source = (ROOT / "reference" / "exercise1.py").read_text()
    path = _notebook(tmp_path / "exercise1.ipynb", [source, "\n\nimport builtins, sys\n"
                     "print(__name__, sys.modules['__main__'].__name__, hasattr(builtins, 'display'),"
                     " hasattr(builtins, '__IPYTHON__'))\n"])
    assert {u.kind for u in read_submission(path).units} == {"cell"} and not notebook_needs_ipython(str(path))
    result = grade(path, seed=3)
    assert result.passed and "__main__ __main__ False False" in result.output


def test_a_notebook_with_magics_keeps_its_shell(tmp_path: Path) -> None:
    source = (ROOT / "reference" / "exercise1.py").read_text()
    path = _notebook(tmp_path / "exercise1.ipynb", [source, "%time z = 1\n", "display('shown')\nprint(__name__)\n"])
    assert {u.kind for u in read_submission(path).units} == {"ipython"} and notebook_needs_ipython(str(path))
    result = grade(path, seed=3)
    assert result.passed and "__main__" in result.output


def test_a_py_file_never_sees_ipythons_builtins(tmp_path: Path) -> None:
    """The warm parent makes the notebook shell before it forks: a .py file must not see it."""
    from grader.sandbox import warm

    warm.warm_up(notebooks=True)
    from multiprocessing import forkserver

    assert "grader.sandbox.notebook_shell" in forkserver._forkserver._preload_modules  # the case holds
    path = tmp_path / "exercise1.py"
    path.write_text((ROOT / "reference" / "exercise1.py").read_text()
                    + "\nimport builtins, sys\nprint('probe', hasattr(builtins, 'display'), hasattr(builtins, '__IPYTHON__'),"
                      " sys.modules['__main__'].__name__)\n")
    result = grade(path, seed=3)
    assert result.passed and "probe False False __main__" in result.output

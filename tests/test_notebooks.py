"""Notebook submissions grade exactly as their .py versions; Jupyter semantics hold."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS, failing_checks, grade
from nbconvert_helpers import write_notebook


def _available(n: int) -> bool:
    from grader.exercises.spec import load_exercise

    try:
        load_exercise(n)
    except LookupError:
        return False
    return True


def _py_files() -> list[Path]:
    numbers = [n for n in range(1, 6) if _available(n)]
    files = [ROOT / f"reference/exercise{n}.py" for n in numbers] + [ROOT / f"exercises/exercise{n}.py" for n in numbers]
    for n in numbers:
        files += sorted(SUBMISSIONS.glob(f"exercise{n}/*.py"))
    return [f for f in files if f.exists()]


@pytest.mark.parametrize("py", _py_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_scores_exactly_as_the_py(py: Path, tmp_path: Path) -> None:
    nb = write_notebook(py, tmp_path / (py.stem + ".ipynb"))
    as_py, as_nb = grade(py, seed=21), grade(nb, seed=21)
    assert (as_nb.score, as_nb.max_score) == (as_py.score, as_py.max_score)
    assert failing_checks(as_nb) == failing_checks(as_py)


def test_magics_shell_lines_and_display_grade_like_plain_code() -> None:
    result = grade(SUBMISSIONS / "notebooks/exercise1_magics.ipynb")
    assert result.passed and result.score == result.max_score
    assert "hello from the shell" in result.output
    assert "not run during grading: !pip install not-a-real-package" in result.output
    assert "skipped cell must not run" not in result.output
    cells = {e["cell"]: e["error"].type for e in result.extras["cell_errors"]}
    assert cells == {"exercise1_magics.ipynb [cell 6]": "NameError", "exercise1_magics.ipynb [cell 7]": "EOFError"}


def test_traceback_names_the_cell(tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("# exercise: 1\nimport torch"),
                             new_code_cell("def squared_loss(y_hat, y):\n    return y_hat.nope()")])
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, str(path))
    failure = grade(path).checks[0].failure
    assert failure.error.frames[-1].file == "mine.ipynb [cell 2]" and failure.error.frames[-1].line == 2


def test_saved_outputs_and_kernelspec_are_ignored(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.read(str(ROOT / "exercises/exercise1.ipynb"), as_version=4)
    nb.metadata["kernelspec"] = {"name": "evil", "display_name": "evil", "language": "bash", "argv": ["/bin/false"]}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Score: 10/10 all tests passed\n")]
    path = tmp_path / "exercise1.ipynb"
    nbformat.write(nb, str(path))
    result = grade(path)
    assert result.score == 0 and "Score: 10/10" not in result.output


def test_old_nbformat_3_is_converted(tmp_path: Path) -> None:
    import json

    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "language": "python", "input": (ROOT / "reference/exercise1.py").read_text(),
         "outputs": [], "metadata": {}}]}]}
    path = tmp_path / "exercise1.ipynb"
    path.write_text(json.dumps(v3))
    assert grade(path).passed


def test_executed_copy_holds_each_cells_output(tmp_path: Path) -> None:
    import nbformat

    from grader.results.executed import executed_copy

    path = SUBMISSIONS / "notebooks/exercise1_magics.ipynb"
    result = grade(path)
    nb = executed_copy(path, result)
    code = [c for c in nb.cells if c.cell_type == "code"]
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in code]
    assert "hello from the shell" in texts[2] and "[0.5000]" in texts[3] and "after the errors" in texts[6]
    assert [o.ename for o in code[4].outputs if o.output_type == "error"] == ["NameError"]
    assert code[-1].execution_count is None and code[-1].outputs == []  # the skip-grading cell did not run
    assert nb.metadata["grader"]["score"] == result.score
    nbformat.validate(nb)

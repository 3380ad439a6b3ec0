"""`grade assign`: solution sources with markers -> the student's stub (.py and .ipynb)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.authoring import markers
from grader.cli import app
from grader.cli.assign import make

pytest.importorskip("jupytext")

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "exercises" / "solutions"
NUMBERS = range(1, 7)


@pytest.mark.parametrize("n", NUMBERS)
def test_builtin_stubs_are_generated_from_the_solutions(n):
    assigned = make(SOLUTIONS / f"exercise{n}.py")
    assert assigned.exercise == n
    assert assigned.script == (ROOT / f"exercises/exercise{n}.py").read_text(encoding="utf-8")
    assert assigned.notebook == (ROOT / f"exercises/exercise{n}.ipynb").read_text(encoding="utf-8")


def test_cli_writes_both_files(tmp_path, capsys):
    assert app.main(["assign", str(SOLUTIONS / "exercise2.py"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out/exercise2.py").read_text() == (ROOT / "exercises/exercise2.py").read_text()
    assert (tmp_path / "out/exercise2.ipynb").read_text() == (ROOT / "exercises/exercise2.ipynb").read_text()


def test_notebook_solution_gives_the_same_notebook(tmp_path):
    from grader.authoring import notebooks

    text = (SOLUTIONS / "exercise4.py").read_text()
    (tmp_path / "exercise4.ipynb").write_text(notebooks.render(notebooks.build(text, "exercise4")))
    assigned = make(tmp_path / "exercise4.ipynb")
    assert assigned.notebook == (ROOT / "exercises/exercise4.ipynb").read_text()
    assert "BEGIN SOLUTION" not in assigned.script and "return torch.max" not in assigned.script


SOLUTION_ONLY = '''# exercise: 1
import numpy as np

# %% tags=["solution-only"]
SECRET = 42

# %% [markdown]
# Write it.

# %%
def squared_loss(y_hat, y):
    """Doc."""
    d = y_hat - y.reshape(y_hat.shape)  # SOLUTION
    return d ** 2 / 2  # SOLUTION


# %%
def helper(x):
    ### BEGIN SOLUTION: return None
    return x
    ### END SOLUTION


# %% tags=["skip-grading"]
print(squared_loss(np.ones(2), np.ones(2)))
'''


def test_markers_lines_cells_and_named_placeholders():
    stub = markers.assign(SOLUTION_ONLY)
    assert "SECRET" not in stub and "solution-only" not in stub
    assert '    """Doc."""\n    raise NotImplementedError("squared_loss: write your code here")\n' in stub
    assert "d ** 2" not in stub and "y.reshape" not in stub
    assert "def helper(x):\n    return None\n" in stub
    assert stub.startswith("# exercise: 1\n") and "# Write it." in stub
    assert '# %% tags=["skip-grading"]\nprint(squared_loss' in stub
    markers.check_functions(SOLUTION_ONLY, stub, ["squared_loss"])


@pytest.mark.parametrize("source, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "line 2: `### BEGIN SOLUTION` is never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "line 3: `### END SOLUTION` without"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "line 3: `### BEGIN SOLUTION` inside"),
    ('def f():\n    s = """\n    ### BEGIN SOLUTION\n    """\n', "line 2: a solution marker inside a string"),
    ("def f():\n    x = '# SOLUTION'\n", "line 2: a solution marker inside a string"),
    ("def f():\n    # SOLUTION\n    return 1\n", "line 2: `# SOLUTION` must end a line of code"),
    ("def f(:\n    pass\n", "not valid Python"),
    ("### BEGIN SOLUTION\ndef f():\n### END SOLUTION\n    return 1\n", "the stub would not be valid Python"),
])
def test_bad_markers_are_one_clear_error(source, message):
    with pytest.raises(markers.MarkerError, match=None) as info:
        markers.assign(source)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("source, message", [
    ("# exercise: 1\ndef other():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n",
     "the solution does not define squared_loss"),
    ("# exercise: 1\ndef squared_loss(y_hat, y):\n    return y_hat\n", "squared_loss would keep the solution"),
    ("# exercise: 1\n### BEGIN SOLUTION\ndef squared_loss(y_hat, y):\n    return y_hat\n### END SOLUTION\n",
     "the stub would lose squared_loss"),
    ("# exercise: 1\ndef squared_loss(y_hat, y):\n    ### BEGIN SOLUTION\n    return y_hat\n", "never closed"),
    ("# exercise: 99\ndef f():\n    pass\n", "there is no exercise 99"),
    ("def f():\n    pass\n", "cannot tell which exercise"),
])
def test_cli_refuses_bad_solutions_with_exit_2(tmp_path, capsys, source, message):
    path = tmp_path / "solution.py"
    path.write_text(source)
    assert app.main(["assign", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_refuses_a_missing_file_and_a_bad_notebook(tmp_path, capsys):
    assert app.main(["assign", str(tmp_path / "nope.py"), "--out", str(tmp_path)]) == 2
    (tmp_path / "exercise1.ipynb").write_text("{not json")
    assert app.main(["assign", str(tmp_path / "exercise1.ipynb"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "no such file" in err[0] and "not a readable notebook" in err[1]


def test_cli_never_overwrites_the_solution(tmp_path, capsys):
    path = tmp_path / "exercise1.py"
    path.write_text((SOLUTIONS / "exercise1.py").read_text())
    assert app.main(["assign", str(path), "--out", str(tmp_path)]) == 2
    assert "would overwrite the solution" in capsys.readouterr().err
    assert path.read_text() == (SOLUTIONS / "exercise1.py").read_text()


def test_course_option_picks_the_course_whose_functions_are_graded(tmp_path, monkeypatch):
    from grader.cli import app
    from grader.exercises import course_option

    monkeypatch.setenv(course_option.ENV, "")  # --course sets it for this process: restored after the test
    solution = tmp_path / "sol" / "exercise1.py"
    solution.parent.mkdir()
    solution.write_text("# exercise: 1\nimport torch\n\n\ndef softmax(X):\n    ### BEGIN SOLUTION\n"
                        "    e = torch.exp(X - X.max(dim=-1, keepdim=True).values)\n"
                        "    return e / e.sum(dim=-1, keepdim=True)\n    ### END SOLUTION\n")
    course = Path(__file__).resolve().parents[1] / "examples" / "softmax"
    assert app.main(["assign", str(solution), "--out", str(tmp_path / "out"), "--course", str(course)]) == 0
    assert "NotImplementedError" in (tmp_path / "out" / "exercise1.py").read_text()
    os.environ[course_option.ENV] = ""
    # the built-in course's exercise 1 grades squared_loss, which this solution lacks
    assert app.main(["assign", str(solution), "--out", str(tmp_path / "out2")]) == 2


@pytest.mark.parametrize("n", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow),
                               4, pytest.param(5, marks=pytest.mark.slow)])
def test_solution_gets_full_marks_and_its_stub_zero(n, grade_file, tmp_path):
    solution = grade_file(SOLUTIONS / f"exercise{n}.py", seed=7)
    assert solution.score == solution.max_score > 0
    stub = tmp_path / f"exercise{n}.py"
    stub.write_text(make(SOLUTIONS / f"exercise{n}.py").script)
    result = grade_file(stub, seed=7)
    assert result.score == 0 and not any(c.passed for c in result.checks)

"""`grader.check()` and `%grade`: grading from a notebook or any Python, never in the caller."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "exercises" / "solutions" / "exercise1.py"


def test_import_grader_stays_cheap():
    code = ("import sys, grader; heavy = [m for m in ('numpy', 'torch', 'IPython', 'grader.interactive', "
            "'grader.judge') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_check_a_py_file_from_plain_python(tmp_path, capsys):
    import grader

    report = grader.check(SOLUTION, seed=5)
    assert report is not None and report.score == report.max_score == 10
    assert "Score: 10 / 10" in capsys.readouterr().out
    assert "<iframe sandbox=\"\"" in report._repr_html_() and "srcdoc=" in report._repr_html_()
    stub = grader.check(ROOT / "exercises/exercise1.py", seed=5, show=False)
    assert stub is not None and stub.score == 0 and capsys.readouterr().out == ""


def test_check_without_a_path_outside_jupyter_says_what_to_do(capsys, monkeypatch):
    import grader

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert grader.check() is None
    assert "give its path" in capsys.readouterr().out


def test_check_reports_a_file_it_cannot_grade(tmp_path, capsys):
    import grader

    report = grader.check(tmp_path / "missing.py")
    assert report is not None and report.graded.status == 2 and "no such file" in capsys.readouterr().out


def _notebook(tmp_path: Path, check_source: str) -> tuple[Path, nbformat.NotebookNode]:
    from grader.authoring import notebooks

    nb = notebooks.build(SOLUTION.read_text(), "exercise1")
    nb.cells.append(nbformat.v4.new_code_cell(check_source))
    path = tmp_path / "exercise1.ipynb"
    path.write_text(notebooks.render(nb))
    return path, nb


def _run(nb: nbformat.NotebookNode, path: Path, monkeypatch) -> str:
    from nbclient import NotebookClient

    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    last = nb.cells[-1]
    return "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/html", "")) for o in last.outputs)


@pytest.mark.slow
def test_grader_check_in_a_notebook_shows_the_report(tmp_path, monkeypatch):
    path, nb = _notebook(tmp_path, "import grader\nreport = grader.check()")
    output = _run(nb, path, monkeypatch)
    assert "<iframe" in output and "squared_loss" in output and "10 / 10" in output


@pytest.mark.slow
def test_grade_magic_and_the_save_first_check(tmp_path, monkeypatch):
    path, nb = _notebook(tmp_path, "%load_ext grader\n%grade")
    # the cell run last before %grade differs from the file on disk: unsaved work
    nb.cells[-2].source += "\n# an unsaved edit"
    output = _run(nb, path, monkeypatch)
    assert "save the notebook first" in output and "<iframe" not in output


def test_student_bundle_store_public_seed_and_pending_hidden_check(tmp_path, monkeypatch, capsys):
    """As in the student wheel: precomputed answers for public seeds, the hidden check pending."""
    import grader
    from grader.distribution import bundle
    from grader.judge import answers

    bundle.precompute(tmp_path / "answers", [1], [4242])
    monkeypatch.setenv(answers.ENV, str(tmp_path / "answers"))
    report = grader.check(SOLUTION)
    assert report is not None and report.score == report.max_score == 9  # results.json leaves pending out
    out = capsys.readouterr().out
    assert "(seed 4242" in out and "(1 point runs at submission)" in out


def test_magic_is_registered_by_load_ext():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "grader")
    assert "grade" in shell.magics_manager.magics["line"]


def test_a_graded_notebook_that_calls_check_does_not_grade_itself(grade_file, tmp_path):
    """In the worker grader.check() returns at once: no grade inside a grade, and the rest still grades."""
    path, _ = _notebook(tmp_path, "import grader\nprint('inner', grader.check())")
    result = grade_file(path, seed=3)
    assert result.score == result.max_score == 10
    outputs = "".join(text for _, text in result.extras["cell_outputs"])
    assert "inner None" in outputs


@pytest.mark.slow
def test_a_kernel_keeps_one_warm_server_and_it_goes_with_the_kernel(tmp_path, monkeypatch):
    import re
    import time

    source = ("import grader\nfrom grader.interactive import session\nfirst = grader.check(show=False)\n"
              "pid = session.server_pid()\nsecond = grader.check(show=False)\n"
              "print('scores', first.score, second.score, 'same', pid == session.server_pid(), 'pid', pid)")
    path, nb = _notebook(tmp_path, source)
    output = _run(nb, path, monkeypatch)
    assert "scores 10.0 10.0 same True" in output
    pid = int(re.search(r"pid (\d+)", output).group(1))
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()  # the kernel's exit stopped it

"""The hostile suite, extended to notebooks and to batch runs."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from conftest import ROOT, grade
from hostile_harness import Traps

CORRECT = "def squared_loss(y_hat, y):\n    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2"
WRONG = "def squared_loss(y_hat, y):\n    return y_hat * 0"


@pytest.fixture
def traps(tmp_path: Path):
    t = Traps(tmp_path)
    yield t
    t.close()


def notebook(path: Path, *cells: str, canary: Path | None = None, **metadata: object) -> Path:
    sources = [c.replace("__CANARY__", str(canary)) if canary else c for c in cells]
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata.update(metadata)
    nbformat.write(nb, str(path))
    return path


def _ex1_points(name: str) -> float:
    return next(c.max_points for c in grade(ROOT / "reference/exercise1.py").checks if c.name == name)


def test_patched_traceback_display_changes_nothing(tmp_path: Path, traps: Traps) -> None:
    path = notebook(tmp_path / "exercise1.ipynb", "# exercise: 1\nimport sys",
                    "ip = get_ipython()\nip.showtraceback = lambda *a, **k: print('All tests passed! 10/10')\n"
                    "sys.excepthook = lambda *a: None\nip.set_custom_exc((BaseException,), lambda *a, **k: None)",
                    WRONG, "raise RuntimeError('hidden?')")
    result = grade(path)
    assert result.score == _ex1_points("leaves its inputs unchanged")  # the one check y_hat * 0 passes
    assert [e["error"].type for e in result.extras["cell_errors"]] == ["RuntimeError"]
    assert traps.snapshot() == traps.before


def test_shell_lines_cannot_touch_files_outside_the_box(tmp_path: Path, traps: Traps) -> None:
    path = notebook(tmp_path / "exercise1.ipynb", "# exercise: 1",
                    "!touch __CANARY__/pwned\n!echo tampered >> __CANARY__/precious.txt\n!rm -rf __CANARY__\n"
                    "!cp /etc/hostname __CANARY__/\n%cd __CANARY__\n!ln -s /etc __CANARY__/etc",
                    CORRECT, canary=traps.canary)
    result = grade(path)
    assert result.passed
    assert traps.snapshot() == traps.before
    assert not traps.survivors()


def test_saved_outputs_and_foreign_kernelspec_change_nothing(tmp_path: Path) -> None:
    path = notebook(tmp_path / "exercise1.ipynb", "# exercise: 1", WRONG,
                    kernelspec={"name": "bash", "display_name": "bash", "language": "bash"})
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        cell.outputs = [new_output("stream", name="stdout", text="Score: 10 / 10 — all checks passed\n"),
                        new_output("execute_result", data={"text/plain": "'PASSED'"}, execution_count=1)]
    nbformat.write(nb, str(path))
    assert grade(path).score == _ex1_points("leaves its inputs unchanged")


def test_a_hostile_notebook_cannot_forge_the_gradebook(tmp_path: Path) -> None:
    from grader.batch import run as batch

    out = tmp_path / "out"
    out.mkdir()
    root = tmp_path / "class"
    (root / "good").mkdir(parents=True)
    (root / "good" / "exercise1.py").write_text((ROOT / "reference/exercise1.py").read_text())
    (root / "evil").mkdir()
    out_s = str(out)
    notebook(root / "evil" / "exercise1.ipynb", "# exercise: 1\nimport sqlite3, os",
             f"open('{out_s}/gradebook.csv', 'w').write('student,exercise,score,max_score\\nevil,exercise1,10,10\\n')",
             f"db = sqlite3.connect('{out_s}/gradebook.sqlite')\n"
             "db.execute(\"update results set score = 100, status = 'passed'\")\ndb.commit()",
             f"!cp /dev/null {out_s}/gradebook.sqlite\n!echo forged > {out_s}/summary.md",
             f"os.makedirs('{out_s}/reports/evil', exist_ok=True)\n"
             f"open('{out_s}/reports/evil/exercise1.json', 'w').write('{{\"score\": 10}}')",
             WRONG)
    (root / "late").mkdir()
    (root / "late" / "exercise2.py").write_text((ROOT / "reference/exercise2.py").read_text())
    assert batch.main([str(root), "--out", out_s, "--seed", "3", "--jobs", "2"]) == 0
    with open(out / "gradebook.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["good"]["score"] == "10" and rows["late"]["score"] == "10"
    assert float(rows["evil"]["score"]) == _ex1_points("leaves its inputs unchanged")
    assert json.loads((out / "reports/evil/exercise1.json").read_text())["score"] == float(rows["evil"]["score"])
    assert "forged" not in (out / "summary.md").read_text()

"""`grade init-ci`: the GitHub Actions workflow for a submission repository."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.cli import app as cli
from grader.cli import initci
from grader.errors import UsageError

WORKFLOW = Path(".github/workflows/grade.yml")
GIT = "https://example.org/course/grader.git"


def repo(tmp_path: Path, *names: str) -> Path:
    for name in names:
        (tmp_path / name).write_text("# exercise: 1\n", encoding="utf-8")
    return tmp_path


def test_writes_a_ready_workflow(tmp_path: Path) -> None:
    root = repo(tmp_path, "exercise1.py", "Exercise2 (1).ipynb", "notes.py", "README.md")
    assert cli.main(["init-ci", "--dir", str(root), "--install", "grader==9.9"]) == 0
    text = (root / WORKFLOW).read_text()
    assert "--index-url https://download.pytorch.org/whl/cpu" in text
    assert 'GRADER_SPEC: "grader==9.9"' in text
    assert 'grade "exercise1.py" --device cpu --report junit="grade-reports/exercise1.xml" ' \
           '--report md="grade-reports/exercise1.md"' in text
    assert 'grade "Exercise2 (1).ipynb"' in text and "grade-reports/Exercise2_1.xml" in text
    assert "notes.py" not in text
    assert "actions/upload-artifact@v4" in text and "if: always()" in text
    assert 'exit "$status"' in text  # the job fails when grade fails
    assert "\t" not in text


def test_workflow_is_valid_yaml(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    root = repo(tmp_path, "exercise3.py")
    initci.main(["--dir", str(root), "--install", "grader @ git+https://example.org/g.git@abc"])
    doc = yaml.safe_load((root / WORKFLOW).read_text())
    steps = doc["jobs"]["grade"]["steps"]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
    grade_step = next(s for s in steps if s.get("name") == "Grade")
    assert 'grade "exercise3.py"' in grade_step["run"]


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo(tmp_path, "exercise1.py")
    (root / WORKFLOW).parent.mkdir(parents=True)
    (root / WORKFLOW).write_text("mine\n")
    assert cli.main(["init-ci", "--dir", str(root), "--git", GIT]) == cli.EXIT_USAGE
    assert "--force" in capsys.readouterr().err
    assert (root / WORKFLOW).read_text() == "mine\n"
    assert cli.main(["init-ci", "--dir", str(root), "--force", "--git", GIT]) == 0
    assert "upload-artifact" in (root / WORKFLOW).read_text()


def test_named_files_and_bad_names(tmp_path: Path) -> None:
    root = repo(tmp_path, "exercise1.py", "sub.py", 'bad"name exercise2.py')
    (root / "hw").mkdir()
    (root / "hw" / "exercise4.ipynb").write_text("{}")
    assert cli.main(["init-ci", "--dir", str(root), "--git", GIT, "hw/exercise4.ipynb"]) == 0
    text = (root / WORKFLOW).read_text()
    assert 'grade "hw/exercise4.ipynb"' in text and "exercise1.py" not in text
    for bad in ("missing.py", "../x.py", 'bad"name exercise2.py'):
        assert cli.main(["init-ci", "--dir", str(root), "--force", "--git", GIT, bad]) == cli.EXIT_USAGE
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["init-ci", "--dir", str(empty), "--git", GIT]) == cli.EXIT_USAGE


def test_default_install_spec_is_never_a_bare_index_name(tmp_path: Path) -> None:
    try:
        spec = initci.install_spec(tmp_path)
    except UsageError:
        return  # not installed from git, no wheel in the repository: the instructor must say
    assert spec.startswith(f"{initci.DIST} @ git+https://")


def test_the_workflow_grades_on_a_fixed_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    root = repo(tmp_path, "exercise1.py", "exercise2.py")
    assert cli.main(["init-ci", "--dir", str(root), "--install", "grader==9.9", "--seed", "42"]) == 0
    text = (root / WORKFLOW).read_text()
    assert 'GRADER_SEED: "42"' in text
    grades = [line for line in text.splitlines() if line.strip().startswith("rc=0; grade ")]
    assert len(grades) == 2 and all('--seed "$GRADER_SEED"' in line for line in grades)
    assert "seed 42" in capsys.readouterr().out
    assert cli.main(["init-ci", "--dir", str(root), "--install", "grader==9.9", "--force"]) == 0
    printed = re.search(r"seed (\d+)", capsys.readouterr().out)
    assert printed and f'GRADER_SEED: "{printed.group(1)}"' in (root / WORKFLOW).read_text()
    assert cli.main(["init-ci", "--dir", str(root), "--seed", "-1", "--force"]) == 2

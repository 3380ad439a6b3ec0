"""The workflow `grade init-ci` writes, run step by step on this machine as GitHub would.

The slow test parses the generated YAML, and runs each `run:` step in order with bash in a
fresh virtual environment (seeing this machine's torch; the grader installed from the
course's wheel committed in the repository), with the variables GitHub sets. The fast
tests check how annotations are chosen across files.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SUBMISSIONS
from grader.distribution import bundle
from grader.cli import ci_annotate
from grader.cli import app as cli
from grader.results import github
from grader.cli import initci

WORKFLOW = Path(".github/workflows/grade.yml")


def _note(file: str, lost: float, n: int = 0) -> github.Annotation:
    return github.Annotation(file, 1 + n, f"f{n}: 1 check failed", "✗ x", lost)


def test_selection_keeps_every_file_and_the_most_points() -> None:
    notes = [_note("a.py", 5 - k * 0.1, k) for k in range(12)] + [_note("b.py", 0.5), _note("c.py", 0.25)]
    kept, left_out = github.select_annotations(notes)
    assert len(kept) == 10 and left_out == 4
    assert {n.file for n in kept} == {"a.py", "b.py", "c.py"}  # each failing file is pointed at
    assert [n.lost for n in kept] == sorted((n.lost for n in kept), reverse=True)
    assert kept[:8] == notes[:8]  # then the most points lost
    assert github.select_annotations(notes[:3]) == (notes[:3], 0)


def test_ci_annotate_prints_ten_and_counts_the_rest(tmp_path: Path) -> None:
    collected, summary = tmp_path / "notes.jsonl", tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", github.DEFERRED: str(collected), "GITHUB_STEP_SUMMARY": str(summary)}
    import dataclasses, json

    collected.write_text("".join(json.dumps(dataclasses.asdict(_note(f"e{k}.py", k))) + "\n" for k in range(13))
                         + "not json\n")
    out = io.StringIO()
    assert ci_annotate.main([str(collected)], stream=out, env=env) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and all(line.startswith("::error file=e") for line in lines)
    assert "file=e12.py" in lines[0] and not any("file=e2.py," in line for line in lines)
    assert "3 more were left out" in summary.read_text()
    out = io.StringIO()
    assert ci_annotate.main([str(tmp_path / "missing.jsonl")], stream=out, env=env) == 0 and out.getvalue() == ""


def test_default_install_is_the_courses_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "exercise1.py").write_text("# exercise: 1\n")
    code = cli.main(["init-ci", "--dir", str(tmp_path)])
    if code == 0:  # this grader came from a git repository: that one
        assert f'GRADER_SPEC: "{initci.DIST} @ git+https://' in (tmp_path / WORKFLOW).read_text()
    else:
        assert code == cli.EXIT_USAGE and "--wheel PATH" in capsys.readouterr().err
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "honest_grader-0.1.0-py3-none-any.whl").write_bytes(b"")
    assert cli.main(["init-ci", "--dir", str(tmp_path), "--force"]) == 0
    assert 'GRADER_SPEC: "./dist/honest_grader-0.1.0-py3-none-any.whl"' in (tmp_path / WORKFLOW).read_text()
    assert cli.main(["init-ci", "--dir", str(tmp_path), "--force", "--git", "https://example.org/c/g.git"]) == 0
    assert f'GRADER_SPEC: "{initci.DIST} @ git+https://example.org/c/g.git"' in (tmp_path / WORKFLOW).read_text()
    assert cli.main(["init-ci", "--dir", str(tmp_path), "--force", "--git", "http://x/$(id)"]) == cli.EXIT_USAGE


def _steps(text: str) -> list[dict]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(text)["jobs"]["grade"]["steps"]


@pytest.mark.slow
def test_the_generated_workflow_runs_and_reports(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "dist").mkdir(parents=True)
    wheel = bundle.build_instructor_wheel(tmp_path / "wheel")
    shutil.copy(wheel, repo / "dist" / wheel.name)
    shutil.copy(SUBMISSIONS / "exercise1" / "bug_broadcast.py", repo / "exercise1.py")
    shutil.copy(SUBMISSIONS / "exercise2" / "bug_no_zero.py", repo / "exercise2.py")
    assert initci.main(["--dir", str(repo)]) == 0
    steps = _steps((repo / WORKFLOW).read_text())
    runs = [s for s in steps if "run" in s]
    assert [s["name"] for s in runs] == ["Install CPU PyTorch and the grader", "Grade"]
    assert all(s["uses"].startswith("actions/") for s in steps if "run" not in s)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    temp, summary = tmp_path / "runner-temp", tmp_path / "step_summary.md"
    temp.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GRADER_", "GITHUB_", "VIRTUAL_ENV"))}
    base.update(GITHUB_ACTIONS="true", CI="true", GITHUB_WORKSPACE=str(repo), RUNNER_TEMP=str(temp),
                GITHUB_STEP_SUMMARY=str(summary), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    outputs = []
    for step in runs:
        env = {**base, **{k: str(v) for k, v in (step.get("env") or {}).items()}}
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=900)
        outputs.append(proc)
        if step["name"].startswith("Install"):
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    installed = subprocess.run([str(venv / "bin" / "python"), "-c", "import grader; print(grader.__file__)"],
                               capture_output=True, text=True, env=base, cwd=tmp_path, check=True).stdout
    assert str(venv) in installed  # the wheel, not this checkout

    grade = outputs[-1]
    assert grade.returncode == 1, grade.stdout[-3000:] + grade.stderr[-3000:]  # checks failed: the job fails
    notes = [line for line in grade.stdout.splitlines() if line.startswith("::error ")]
    assert 1 <= len(notes) <= 10
    assert any("file=exercise1.py,line=" in n for n in notes) and any("file=exercise2.py,line=" in n for n in notes)
    text = summary.read_text(encoding="utf-8")
    seeds = re.findall(r"grade exercise(\d)\.py --seed (\d+)", text.replace("\\", ""))
    assert sorted(s[0] for s in seeds) == ["1", "2"]
    assert "squared_loss" in text and "sgd" in text
    for stem in ("exercise1", "exercise2"):
        for ext in ("xml", "md", "html"):
            assert (repo / "grade-reports" / f"{stem}.{ext}").stat().st_size > 0

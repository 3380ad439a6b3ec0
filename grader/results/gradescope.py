"""Gradescope's results.json, written with json.dumps (never a template).

Fields follow Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): per-test `name`, `score`,
`max_score`, `status` ("passed"/"failed"), `output` with `output_format` "md", and
`visibility` ("visible", or "after_published" for hidden checks); top-level `score`,
`max_score`, `output` (+ `output_format`), `execution_time` (seconds), and
`stdout_visibility` "hidden" (the autograder's stdout stays instructor-only).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from grader.results import render
from grader.results.escape import text_line
from grader.results.model import CheckResult, GradeResult

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
OUTPUT_FORMATS = ("text", "html", "simple_format", "md", "ansi")


def _output(check: CheckResult, result: GradeResult, folder: str | None) -> str:
    """The Markdown explanation of a failed check ('' when it passed)."""
    if check.failure is None:
        return ""
    return render.render("md_check.md.j2", result, folder=folder, c=check).strip() + "\n"


def _test(check: CheckResult, result: GradeResult, number: int, folder: str | None) -> dict[str, Any]:
    return {
        "name": check.test_name,
        "number": str(number),
        "score": check.points,
        "max_score": check.max_points,
        "status": "passed" if check.passed else "failed",
        "output": _output(check, result, folder),
        "output_format": "md",
        "visibility": "after_published" if check.hidden else "visible",
    }


def results(result: GradeResult, folder: str | None = None) -> dict[str, Any]:
    """The results.json object for one graded submission."""
    ran = [c for c in result.checks if not c.pending]  # a student bundle's hidden checks run at submission
    tests = [_test(c, result, i, folder) for i, c in enumerate(ran, start=1)]
    return {
        "score": result.totals.score,
        "max_score": result.totals.max_score,
        "output": render.render("gradescope_summary.md.j2", result, folder=folder).strip() + "\n",
        "output_format": "md",
        "execution_time": max(0, math.ceil(result.seconds)),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def failure_results(reason: str) -> dict[str, Any]:
    """results.json when nothing could be graded (Gradescope still needs a file); the reason on
    one line, names in it shown escaped."""
    return {"score": 0, "max_score": 0, "output": text_line(reason), "output_format": "text",
            "stdout_visibility": "hidden", "tests": []}


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(data), encoding="utf-8")

"""Gradescope's results.json, written with json.dumps (never a template)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .result import CheckResult, GradeResult


def _output(check: CheckResult) -> str:
    f = check.failure
    if f is None:
        return ""
    lines = [f.summary]
    if f.case:
        lines.append(f"Input: {f.case}")
    if f.diagnosis:
        lines.append(f"Diagnosis: {f.diagnosis}")
    if f.hint:
        lines.append(f"Hint: {f.hint}")
    if f.error and f.error.where:
        lines.append(f"At {f.error.where}: {f.error.type}: {f.error.message}")
    return "\n".join(lines)


def results(result: GradeResult) -> dict[str, Any]:
    """The results.json object for one graded submission."""
    tests = [
        {
            "name": c.test_name,
            "score": c.points,
            "max_score": c.max_points,
            "status": "passed" if c.passed else "failed",
            "output": _output(c),
            "visibility": "after_published" if c.hidden else "visible",
        }
        for c in result.checks
    ]
    return {
        "score": round(sum(t["score"] for t in tests), 6),
        "max_score": round(sum(t["max_score"] for t in tests), 6),
        "output": f"Exercise {result.exercise}, seed {result.seed}, device {result.device}.",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def failure_results(reason: str) -> dict[str, Any]:
    """results.json when nothing could be graded (Gradescope still needs a file)."""
    return {"score": 0, "max_score": 0, "output": reason, "tests": []}


def write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

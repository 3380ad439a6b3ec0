"""Per-submission report files and the class summary (score distribution, per-check pass rates)."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.results import render as report
from grader.intake.discover import Skipped
from grader.results.escape import text_line
from grader.batch.gradebook import Row

# report file suffix -> template: plain terminal text, and the self-contained HTML and Markdown
REPORT_FORMATS: dict[str, str] = {suffix: report.FORMATS[suffix] for suffix in ("txt", "html", "md")}


def report_dir(out: Path, student: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student) or "_"
    return out / safe


def write_submission_reports(out: Path, student: str, exercise: int, result: Any, results_json: dict) -> None:
    """OUT/reports/<student>/exerciseN.{txt,json,...} for one graded submission."""
    folder = report_dir(out, student)
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, template in REPORT_FORMATS.items():
        if result is not None:
            (folder / f"exercise{exercise}.{suffix}").write_text(report.render(template, result), encoding="utf-8")
    (folder / f"exercise{exercise}.json").write_text(json.dumps(results_json, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class CheckRate:
    exercise: int
    name: str
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class ExerciseStats:
    exercise: int
    count: int
    mean: float
    max_score: float
    histogram: tuple[tuple[str, int], ...]  # (bin label, count)
    errors: int


@dataclass(frozen=True)
class Summary:
    seed: int
    submissions: int
    exercises: tuple[ExerciseStats, ...]
    hardest: tuple[CheckRate, ...]
    skipped: tuple[Skipped, ...]


def summarise(rows: list[Row], skipped: tuple[Skipped, ...], seed: int, bins: int = 10) -> Summary:
    """Score distribution per exercise and every check's pass rate, hardest first."""
    by_ex: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_ex[row.exercise].append(row)
    stats = []
    rates: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for ex, ex_rows in sorted(by_ex.items()):
        full = max(r.max_score for r in ex_rows) or 1.0
        counts = [0] * bins
        for r in ex_rows:
            counts[min(bins - 1, int(r.score / full * bins))] += 1
            for t in r.result.get("tests", []):
                if not t["name"].startswith("submission:"):
                    rates[(ex, t["name"])][0] += t["status"] == "passed"
                    rates[(ex, t["name"])][1] += 1
        labels = [f"{i * 100 // bins}–{(i + 1) * 100 // bins}%" for i in range(bins)]
        stats.append(ExerciseStats(ex, len(ex_rows), sum(r.score for r in ex_rows) / len(ex_rows), full,
                                   tuple(zip(labels, counts)), sum(r.status == "error" for r in ex_rows)))
    hardest = sorted((CheckRate(ex, name, p, n) for (ex, name), (p, n) in rates.items()),
                     key=lambda c: (c.rate, c.exercise, c.name))
    return Summary(seed, len(rows), tuple(stats), tuple(hardest), skipped)


def write_summary(out: Path, rows: list[Row], skipped: tuple[Skipped, ...], seed: int) -> None:
    """OUT/summary.md and OUT/summary.html from the class summary templates."""
    summary = summarise(rows, skipped, seed)
    env = report.environment(None, autoescape=False)
    (out / "summary.md").write_text(env.get_template("class_summary.md.j2").render(s=summary), encoding="utf-8")
    html_env = report.environment(None, autoescape=True)
    (out / "summary.html").write_text(html_env.get_template("class_summary.html.j2").render(s=summary),
                                      encoding="utf-8")
    if skipped:
        (out / "skipped.txt").write_text("".join(f"{text_line(s.path)}\t{text_line(s.reason)}\n" for s in skipped),
                                         encoding="utf-8")

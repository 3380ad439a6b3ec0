"""Per-submission report files and the class summary (score distribution, per-check pass rates)."""
from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.results import render as report
from grader.intake.discover import Skipped
from grader.results.escape import text_line
from grader.batch.gradebook import Row, write_csv

# report file suffix -> template: plain terminal text, and the self-contained HTML and Markdown
REPORT_FORMATS: dict[str, str] = {suffix: report.FORMATS[suffix] for suffix in ("txt", "html", "md")}


def report_dir(out: Path, student: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student) or "_"
    return out / ("_" + safe if safe.startswith(".") else safe)  # never `.` or `..` (an LMS id can be anything)


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
    median: float = 0.0
    minimum: float = 0.0
    maximum: float = 0.0
    missing: int = 0


@dataclass(frozen=True)
class Summary:
    seed: int
    submissions: int
    exercises: tuple[ExerciseStats, ...]
    hardest: tuple[CheckRate, ...]
    skipped: tuple[Skipped, ...]
    students: tuple[StudentLine, ...] = ()
    lists: tuple[tuple[str, tuple[Listed, ...]], ...] = ()  # (heading, entries): missing, late, errored, ...
    similar: tuple[Any, ...] = ()  # similarity.Pair
    wrong: tuple[WrongAnswer, ...] = ()


@dataclass(frozen=True)
class StudentLine:
    """A student's line in the summary: a link to each report and the final scores."""

    student: str
    cells: tuple[Cell, ...]

    @property
    def standing(self) -> str:
        """The link from summary.html to reports/<student>/standing.txt."""
        return f"reports/{report_dir(Path(), self.student).name}/standing.txt"


@dataclass(frozen=True)
class Cell:
    """One student's standing on one exercise, as the summary and standing.txt show it."""

    exercise: int
    status: str
    raw: float
    penalty: float
    final: float
    max_score: float
    link: str  # '' for missing work
    late_days: int = 0
    after_cutoff: bool = False
    submitted: str = ""  # UTC
    time_source: str = ""
    overrides: tuple[str, ...] = ()  # "score = 8 by ta: reason"
    review: bool = False


@dataclass(frozen=True)
class Listed:
    student: str
    exercise: int
    note: str
    kind: str = "html"  # the report to link to: html, json (could not be graded: no html) or '' (none)

    @property
    def report(self) -> str:
        return report_link(self.student, self.exercise, self.kind) if self.kind else ""


def report_link(student: str, exercise: int, status: str = "") -> str:
    """The relative link from summary.html to a submission's report ('' for missing work)."""
    if status == "missing":
        return ""
    suffix = "json" if status in ("error", "json") else "html"
    return f"reports/{report_dir(Path(), student).name}/exercise{exercise}.{suffix}"


@dataclass(frozen=True)
class WrongAnswer:
    """A wrong answer the class converges on, for one check."""

    exercise: int
    check: str
    code: str
    text: str
    count: int
    total: int  # submissions graded on that check

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


def summarise(rows: list[Row], skipped: tuple[Skipped, ...], seed: int, bins: int = 10,
              marks: dict[tuple[str, int], Any] | None = None, roster: set[str] | None = None,
              similar: tuple[Any, ...] = ()) -> Summary:
    """Score distribution per exercise (final scores, missing work counted as 0), every check's
    pass rate hardest first, the common wrong answers, and the lists an instructor acts on."""
    marks = marks or {}
    by_ex: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_ex[row.exercise].append(row)
    stats = []
    rates: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for ex, ex_rows in sorted(by_ex.items()):
        full = max(r.max_score for r in ex_rows) or 1.0
        counts = [0] * bins
        finals = sorted(_final(r, marks) for r in ex_rows)
        for r in ex_rows:
            counts[min(bins - 1, max(0, int(_final(r, marks) / full * bins)))] += 1
            for t in r.result.get("tests", []):
                if not t["name"].startswith("submission:"):
                    rates[(ex, t["name"])][0] += t["status"] == "passed"
                    rates[(ex, t["name"])][1] += 1
        labels = [f"{i * 100 // bins}–{(i + 1) * 100 // bins}%" for i in range(bins)]
        stats.append(ExerciseStats(ex, len(ex_rows), sum(finals) / len(ex_rows), full,
                                   tuple(zip(labels, counts)), sum(r.status == "error" for r in ex_rows),
                                   statistics.median(finals), finals[0], finals[-1],
                                   sum(r.status == "missing" for r in ex_rows)))
    hardest = sorted((CheckRate(ex, name, p, n) for (ex, name), (p, n) in rates.items()),
                     key=lambda c: (c.rate, c.exercise, c.name))
    graded = sum(r.status != "missing" for r in rows)
    return Summary(seed, graded, tuple(stats), tuple(hardest), skipped, _students(rows, marks),
                   _lists(rows, marks, roster), tuple(similar), wrong_answers(rows))


def _final(row: Row, marks: dict[tuple[str, int], Any]) -> float:
    m = marks.get((row.student, row.exercise))
    return m.final if m is not None else row.score


def _students(rows: list[Row], marks: dict[tuple[str, int], Any]) -> tuple[StudentLine, ...]:
    from grader.batch.gradebook import utc

    by_student: dict[str, list[Cell]] = defaultdict(list)
    for r in rows:
        m = marks.get((r.student, r.exercise))
        link = report_link(r.student, r.exercise, r.status)
        if m is None:
            cell = Cell(r.exercise, r.status, r.score, 0.0, r.score, r.max_score, link)
        else:
            cell = Cell(r.exercise, r.status, m.raw, m.penalty, m.final, r.max_score, link, m.late.days,
                        m.late.after_cutoff, utc(r.submitted_at), r.time_source,
                        tuple(f"{o.check or 'score'} = {o.points:g} by {o.by}: {o.reason}" for o in m.overrides),
                        m.review)
        by_student[r.student].append(cell)
    return tuple(StudentLine(s, tuple(cells)) for s, cells in sorted(by_student.items()))


def _lists(rows: list[Row], marks: dict[tuple[str, int], Any], roster: set[str] | None) -> tuple:
    missing, late, errored, overridden, review = [], [], [], [], []
    for r in rows:
        m = marks.get((r.student, r.exercise))
        if r.status == "missing":
            missing.append(Listed(r.student, r.exercise, "no submission: 0", ""))
        elif r.status == "error":
            errored.append(Listed(r.student, r.exercise, str(r.result.get("output", "")).strip()[:200], "json"))
        if m is not None and m.late.days:
            note = ("after the cut-off: no credit" if m.late.after_cutoff else
                    f"{m.late.days} day(s) late, −{m.penalty:g} ({100 * m.late.fraction:.0f} %)")
            late.append(Listed(r.student, r.exercise, f"{note}; time from {m.time_source}"))
        if m is not None and m.overrides:
            text = "; ".join(f"{o.check or 'score'} = {o.points:g} by {o.by}: {o.reason}" for o in m.overrides)
            overridden.append(Listed(r.student, r.exercise, text))
            if m.review:
                review.append(Listed(r.student, r.exercise, "a regrade changed the score under this override"))
    strangers = {r.student: r.exercise for r in reversed(rows) if roster and r.student not in roster}
    lists = (("Missing", missing), ("Late", late), ("Could not be graded", errored), ("Overridden", overridden),
             ("Overrides to review", review),
             ("Not on the roster", [Listed(s, ex, "graded, but not on the roster") for s, ex in sorted(strangers.items())]))
    return tuple((title, tuple(items)) for title, items in lists if items)


def wrong_answers(rows: list[Row], top: int = 3) -> tuple[WrongAnswer, ...]:
    """For each check, the most common diagnoses among the submissions that failed it (by code)."""
    seen: dict[tuple[int, str], Counter] = defaultdict(Counter)
    texts: dict[tuple[int, str, str], str] = {}
    totals: Counter = Counter()
    for r in rows:
        for t in r.result.get("tests", []):
            if t["name"].startswith("submission:"):
                continue
            totals[(r.exercise, t["name"])] += 1
            code = t.get("diagnosis_code") or ""
            if t.get("status") == "failed" and code:
                seen[(r.exercise, t["name"])][code] += 1
                texts.setdefault((r.exercise, t["name"], code), str(t.get("diagnosis") or code))
    out = [WrongAnswer(ex, name, code, texts[(ex, name, code)], n, totals[(ex, name)])
           for (ex, name), counter in seen.items() for code, n in counter.most_common(top)]
    return tuple(sorted(out, key=lambda w: (-w.share, w.exercise, w.check, w.code)))


def write_outputs(out: Path, book: Any, skipped: tuple[Skipped, ...] | None = None, seed: int | None = None,
                  similar: tuple[Any, ...] | None = None) -> None:
    """gradebook.csv and the class summary from the whole gradebook: final marks (late penalties,
    overrides), missing work for the roster. What is not given is the last run's (kept in meta)."""
    from grader.batch import overrides

    if skipped is None:
        skipped = tuple(Skipped(Path(p), r) for p, r in json.loads(book.meta("skipped") or "[]"))
    else:
        book.set_meta("skipped", json.dumps([[str(k.path), k.reason] for k in skipped]))
    if similar is None:
        from grader.batch import similarity

        similar = similarity.from_json(book.meta("similar") or "[]")
    else:
        from grader.batch import similarity

        book.set_meta("similar", similarity.to_json(similar))
    seed = seed if seed is not None else int(book.meta("seed") or 0)
    pairs = overrides.standing(book)
    rows = [r for r, _ in pairs]
    marks = {(r.student, r.exercise): m for r, m in pairs}
    roster = book.roster().ids()
    write_csv(rows, out / "gradebook.csv", marks, roster)
    write_summary(out, rows, skipped, seed, marks, roster, similar)
    write_standings(out / "reports", _students(rows, marks))


def write_standings(reports: Path, students: tuple[StudentLine, ...]) -> None:
    """reports/<student>/standing.txt: raw score, late penalty, overrides and final per exercise."""
    env = report.environment(None, autoescape=False)
    template = env.get_template("class_standing.txt.j2")
    for line in students:
        folder = report_dir(reports, line.student)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "standing.txt").write_text(template.render(st=line), encoding="utf-8")


def write_summary(out: Path, rows: list[Row], skipped: tuple[Skipped, ...], seed: int,
                  marks: dict[tuple[str, int], Any] | None = None, roster: set[str] | None = None,
                  similar: tuple[Any, ...] = ()) -> None:
    """OUT/summary.md and OUT/summary.html from the class summary templates."""
    summary = summarise(rows, skipped, seed, marks=marks, roster=roster, similar=similar)
    env = report.environment(None, autoescape=False)
    (out / "summary.md").write_text(env.get_template("class_summary.md.j2").render(s=summary), encoding="utf-8")
    html_env = report.environment(None, autoescape=True)
    (out / "summary.html").write_text(html_env.get_template("class_summary.html.j2").render(s=summary),
                                      encoding="utf-8")
    if skipped:
        (out / "skipped.txt").write_text("".join(f"{text_line(s.path)}\t{text_line(s.reason)}\n" for s in skipped),
                                         encoding="utf-8")

"""GitHub Actions: the Markdown report in the step summary, `::error` annotations on the student's lines.

Annotations point at the `def` of each failed function (`definitions.py`: read from the
submission's text, never executed); for a notebook, at the line of the notebook file that
holds the `def`, naming the cell.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, TextIO

from grader.results import escape
from grader.results import render
from grader.results.definitions import definitions
from grader.results.model import GradeResult

SUMMARY_CAP = 1024 * 1024  # bytes GitHub accepts in one step's summary
MAX_ANNOTATIONS = 10  # GitHub shows at most 10 error annotations per step
TRUNCATED = "\n\n*The report was cut here to fit GitHub's 1 MiB step-summary limit; the full report is in the job's artifacts.*\n"


@dataclass(frozen=True)
class Annotation:
    """One `::error` line: where, a title, and the message."""

    file: str
    line: int
    title: str
    message: str
    lost: float

    def command(self) -> str:
        return (f"::error file={escape_property(self.file)},line={self.line},"
                f"title={escape_property(self.title)}::{escape_data(self.message)}")


def in_actions(env: Mapping[str, str] = os.environ) -> bool:
    """Inside a GitHub Actions job (the runner sets GITHUB_ACTIONS=true)."""
    return bool(env.get("GITHUB_ACTIONS"))


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF percent-encoded (control characters dropped,
    legacy `##[` defused)."""
    s = escape.defuse_legacy(escape.clean(text))
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as data, plus ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


# ---------------------------------------------------------------- definitions

def display_path(path: Path, env: Mapping[str, str] = os.environ) -> str:
    """The path as GitHub wants it: relative to the workspace (or cwd), with forward slashes."""
    resolved = path.resolve()
    for root in (env.get("GITHUB_WORKSPACE"), os.getcwd()):
        if root:
            try:
                return resolved.relative_to(Path(root).resolve()).as_posix()
            except ValueError:
                continue
    return path.as_posix()


def annotations(result: GradeResult, path: Path, env: Mapping[str, str] = os.environ,
                limit: int | None = MAX_ANNOTATIONS) -> list[Annotation]:
    """At most `limit`, most points lost first: the submission's failure, then each failing function."""
    file = display_path(path, env)
    notes: list[Annotation] = []
    if result.submission_error is not None:
        err = result.submission_error.error
        line = err.frames[-1].line if err and err.frames and path.suffix.lower() == ".py" else 1
        notes.append(Annotation(file, max(line, 1), "submission",
                                result.submission_error.summary, result.max_score or float("inf")))
    functions = [f for f in result.functions() if f != "submission"]
    where = definitions(path, functions)
    for fn in functions:
        failed = [c for c in result.checks if c.function == fn and not c.passed]
        if not failed or result.submission_error is not None:
            continue
        lost = round(sum(c.max_points - c.points for c in failed), 6)
        loc = where.get(fn)
        cell = f" (cell {loc.cell})" if loc and loc.cell else ""
        title = f"{fn}{cell}: {len(failed)} check{'s' if len(failed) > 1 else ''} failed, {lost:g} point{'s' if lost != 1 else ''} lost"
        lines = [f"✗ {c.name}: {c.failure.summary if c.failure else ''}" for c in failed]
        hint = next((c.failure.hint for c in failed if c.failure and c.failure.hint), "")
        if not loc:
            lines.insert(0, f"`{fn}` is not defined in this file")
        if hint:
            lines.append(f"hint: {hint}")
        message = "\n".join(line[:500] for line in lines)
        notes.append(Annotation(file, loc.line if loc else 1, title, message, lost))
    notes.sort(key=lambda a: -a.lost)  # stable: ties keep check order
    return notes[:limit]


def select_annotations(notes: list[Annotation], limit: int = MAX_ANNOTATIONS) -> tuple[list[Annotation], int]:
    """The `limit` most useful of several files' annotations, and how many are left out.

    Each file's worst annotation first (so every failing file is pointed at), then the
    rest by points lost; the kept ones come out most points lost first.
    """
    best: dict[str, Annotation] = {}
    for note in sorted(notes, key=lambda a: -a.lost):
        best.setdefault(note.file, note)
    firsts = sorted(best.values(), key=lambda a: -a.lost)[:limit]
    chosen = {id(a) for a in firsts}
    rest = [a for a in sorted(notes, key=lambda a: -a.lost) if id(a) not in chosen]
    kept = sorted(firsts + rest[:limit - len(firsts)], key=lambda a: -a.lost)
    return kept, len(notes) - len(kept)


DEFERRED = "GRADER_ANNOTATIONS"  # a file: collect several runs' annotations (python -m grader.cli.ci_annotate prints them)


def reproduce_line(result: GradeResult, path: Path, env: Mapping[str, str] = os.environ) -> str:
    """The step summary's Markdown line with the command that replays this run."""
    import shlex

    command = f"grade {shlex.quote(display_path(path, env))} --seed {result.seed}"
    return f"\nReproduce this run: {escape.md_inline(command)}\n"


# ---------------------------------------------------------------- step summary

def fit_summary(markdown: str, budget: int) -> str:
    """`markdown` cut at a line boundary to at most `budget` UTF-8 bytes, open code fences and
    <details> closed, with a note saying it was cut."""
    if len(markdown.encode("utf-8")) <= budget:
        return markdown
    room = budget - len(TRUNCATED.encode("utf-8")) - 64
    kept: list[str] = []
    used, fence, details = 0, "", 0
    for line in markdown.splitlines(True):
        size = len(line.encode("utf-8"))
        closing = len(fence) + 1 + 12 * details
        if used + size + closing > room:
            break
        kept.append(line)
        used += size
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence) and not stripped.strip("`"):
                fence = ""
        elif m := re.match(r"^(`{3,})", stripped):
            fence = m.group(1)
        details += stripped.count("<details>") - stripped.count("</details>")
    tail = ("\n" if kept and not kept[-1].endswith("\n") else "") + (fence + "\n" if fence else "")
    tail += "</details>\n" * max(details, 0)
    return "".join(kept) + tail + TRUNCATED


def append_summary(markdown: str, summary_path: Path, cap: int = SUMMARY_CAP) -> None:
    """Append to $GITHUB_STEP_SUMMARY, keeping the file under GitHub's cap."""
    try:
        existing = summary_path.stat().st_size
    except OSError:
        existing = 0
    budget = cap - existing - 1
    if budget <= len(TRUNCATED.encode("utf-8")) + 256:
        return
    with open(summary_path, "a", encoding="utf-8") as fh:
        fh.write(fit_summary(markdown, budget))


def publish(result: GradeResult, path: Path, folder: str | None = None, stream: TextIO | None = None,
            env: Mapping[str, str] = os.environ) -> None:
    """Inside GitHub Actions: write the step summary and print the annotations."""
    stream = stream or sys.stdout
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_summary(render.render_format("md", result, folder) + reproduce_line(result, path, env),
                           Path(summary))
        except OSError as exc:
            print(f"grade: could not write the step summary: {exc.strerror}", file=sys.stderr)
    notes = annotations(result, path, env, limit=None)
    if env.get(DEFERRED):
        try:
            with open(env[DEFERRED], "a", encoding="utf-8") as fh:
                fh.writelines(json.dumps(dataclasses.asdict(n)) + "\n" for n in notes)
            return
        except OSError as exc:
            print(f"grade: could not collect the annotations: {exc.strerror}", file=sys.stderr)
    for note in select_annotations(notes)[0]:
        stream.write(note.command() + "\n")
    stream.flush()


def publish_usage_error(reason: str, stream: TextIO | None = None, env: Mapping[str, str] = os.environ) -> None:
    """Inside GitHub Actions, when nothing could be graded: one annotation and one summary line."""
    stream = stream or sys.stdout
    stream.write(f"::error title=grade::{escape_data('Could not grade: ' + reason)}\n")
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_summary(f"## ✗ Could not grade\n\n{escape.md_name(reason)}\n", Path(summary))
        except OSError:
            pass

"""`grade history OUT STUDENT [EXERCISE]`: every graded version, regrade and override."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from grader.batch import gradebook, overrides
from grader.results.escape import text_line


def lines(book: gradebook.Gradebook, student: str, exercise: int | None = None) -> list[str]:
    """The history as plain text lines, oldest first per exercise."""
    out: list[str] = []
    attempts = book.attempts(student, exercise)
    made = [o for o in overrides.stored(book, student) if exercise is None or o.exercise == exercise]
    for ex in sorted({a.exercise for a in attempts} | {o.exercise for o in made}):
        out.append(f"{text_line(student)} exercise{ex}")
        events: list[tuple[float, int, str]] = []
        for a in (a for a in attempts if a.exercise == ex):
            events.append((a.graded_at, a.id,
                           f"  {gradebook.utc(a.graded_at)}  {a.kind:<11}  {a.score:g}/{a.max_score:g} {a.status:<7}"
                           f"  sha256 {a.content_hash[:12] or '?'}  submitted {gradebook.utc(a.submitted_at) or '?'}"
                           f" ({text_line(a.time_source) or '?'})  grader {text_line(a.grader_version) or '?'}"))
        for o in (o for o in made if o.exercise == ex):
            what = f"check {text_line(o.check)}" if o.check else "score"
            events.append((o.at, o.id, f"  {gradebook.utc(o.at)}  override     {what} = {o.points:g} by "
                           f"{text_line(o.by)}: {text_line(o.reason)} (score under it then: {o.base_score:g})"
                           f"{'  REVIEW: a regrade changed the score' if o.review else ''}"))
        out += [line for _, _, line in sorted(events)]
    return out


def parser() -> argparse.ArgumentParser:
    from grader.cli.options import Parser as _Parser

    p = _Parser(prog="grade history", description="A student's attempts, regrades and overrides.")
    p.add_argument("out", type=Path)
    p.add_argument("student")
    p.add_argument("exercise", nargs="?")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    exercise = overrides.exercise_number(args.exercise) if args.exercise is not None else None
    book = overrides.open_book(args.out)
    try:
        found = lines(book, args.student, exercise)
    finally:
        book.close()
    if not found:
        print(f"grade history: nothing for {text_line(args.student)}"
              + (f" exercise{exercise}" if exercise is not None else ""))
        return 1
    print("\n".join(found))
    return 0

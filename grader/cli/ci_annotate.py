"""`python -m grader.cli.ci_annotate FILE`: the end of a GitHub Actions step that graded several files.

Each `grade` run of the step appended its annotations to FILE (`$GRADER_ANNOTATIONS`, see
`grader.results.github`); GitHub keeps only 10 of each type per step, so this prints the most useful
ones across the files and says in the step summary how many were left out. A missing or
empty FILE (nothing failed) prints nothing. Always exits 0: the grading step's status is
`grade`'s.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from grader.results.github import Annotation, append_summary, select_annotations


def read(path: Path) -> list[Annotation]:
    """The annotations collected in `path` (lines that do not parse are skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    notes = []
    for line in lines:
        try:
            raw = json.loads(line)
            notes.append(Annotation(str(raw["file"]), int(raw["line"]), str(raw["title"]), str(raw["message"]),
                                    float(raw["lost"])))
        except (ValueError, KeyError, TypeError):
            continue
    return notes


def main(argv: Sequence[str], stream: TextIO | None = None, env: Mapping[str, str] = os.environ) -> int:
    stream = stream or sys.stdout
    if len(argv) != 1:
        print("usage: python -m grader.cli.ci_annotate FILE", file=sys.stderr)
        return 2
    kept, left_out = select_annotations(read(Path(argv[0])))
    for note in kept:
        stream.write(note.command() + "\n")
    stream.flush()
    summary = env.get("GITHUB_STEP_SUMMARY")
    if left_out and summary:
        files = len({n.file for n in kept})
        try:
            append_summary(f"\n*{len(kept)} annotations are shown on the files ({files} file{'s' if files != 1 else ''}); "
                           f"{left_out} more were left out, as GitHub keeps 10 per step: the reports above and "
                           "the `grade-reports` artifact list every failure.*\n", Path(summary))
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

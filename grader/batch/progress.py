"""Batch progress: a rich progress bar (ETA, live counts) on a terminal, plain lines otherwise."""
from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from grader.results.escape import shown, text_line


class Progress:
    """Counts passed, failed and errored submissions as they finish."""

    def __init__(self, total: int, stream: Any = sys.stderr) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.counts: Counter[str] = Counter()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> "Progress":
        if self.stream.isatty() and self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            self.bar = Bar(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
                           TimeRemainingColumn(), TextColumn("{task.fields[counts]}"),
                           console=Console(file=self.stream))
            self.bar.__enter__()
            self.task = self.bar.add_task("grading", total=self.total, counts=self._counts())
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def _counts(self) -> str:
        return f"passed {self.counts['passed']} · failed {self.counts['failed']} · errored {self.counts['error']}"

    def advance(self, student: str, exercise: int, outcome: Any) -> None:
        self.done += 1
        self.counts[outcome.status] += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, counts=self._counts())
            return
        what = (f"{outcome.result.score:g}/{outcome.result.max_score:g}" if outcome.result is not None
                else f"error: {outcome.message}")
        print(f"[{self.done}/{self.total}] {text_line(shown(student))} exercise{exercise}: {text_line(what)}  "
              f"({self._counts()})", file=self.stream, flush=True)

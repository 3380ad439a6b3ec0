"""`%load_ext grader` then `%grade [PATH]`: the same as `grader.check(PATH)`."""
from __future__ import annotations

from typing import Any


def load(ip: Any) -> None:
    """Register the `%grade` line magic on the IPython shell `ip`."""

    def grade(line: str) -> None:
        from grader.interactive.check import check

        path = line.strip().strip("\"'") or None
        check(path)

    ip.register_magic_function(grade, magic_kind="line", magic_name="grade")

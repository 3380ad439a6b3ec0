"""The command line: `grade FILE`, `grade batch` and the other commands."""

from grader.cli.app import main  # noqa: E402,F401  (the `grade` console script)

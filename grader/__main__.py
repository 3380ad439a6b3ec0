"""`python -m grader`: the same as the `grade` command."""
import os
import sys

# `python -m` puts the current directory first on sys.path; a student's folder named
# `reference/` or `grader/` there must not shadow the judge's own packages.
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if sys.path and os.path.abspath(sys.path[0] or ".") != _here:
    sys.path.pop(0)

from grader.cli.app import run  # noqa: E402

run()

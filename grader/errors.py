"""Errors the command line turns into one clear line and an exit code."""
from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


class GraderBug(Exception):
    """The grader itself failed (never the student's fault): exit status 2."""

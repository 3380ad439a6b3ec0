"""The grader's folders in the user's cache ($XDG_CACHE_HOME or ~/.cache, then `grader/`).

What lives there is code the judge runs (compiled templates, the package's bytecode), like
Python's `__pycache__`: each folder is made private (0700) and refused when it is not a plain
folder of ours that only we can write. Workers never see it (it is hidden under an empty mount
where they get a mount namespace, and Landlock keeps them to their box).
"""
from __future__ import annotations

import os
import stat


def root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "grader")


def folder(name: str) -> str | None:
    """`root()/name`, made if need be; None when it cannot be had safely."""
    path = os.path.join(root(), name)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return path

"""A run's scratch folder: the worker's box and its output log, read back capped, and removed
however the worker left it."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

OUTPUT_CAP = 16 * 1024
UNIT_OUTPUT_CAP = 64 * 1024
UNITS_OUTPUT_CAP = 1024 * 1024


def unit_outputs(log: Path, offsets: Any, count: int) -> tuple[str, ...]:
    """Slice the output log at the worker's reported offsets (untrusted: checked, capped)."""
    if not isinstance(offsets, list) or len(offsets) > count or not all(type(o) is int for o in offsets):
        return ()
    try:
        with open(log, "rb") as fh:
            data = fh.read(UNITS_OUTPUT_CAP)
    except OSError:
        return ()
    texts, start = [], 0
    for end in offsets:
        if end < start:
            return ()
        texts.append(data[start:min(end, start + UNIT_OUTPUT_CAP)].decode("utf-8", "replace"))
        start = end
    return tuple(texts)


def read_output(log: Path) -> str:
    """What the worker printed, capped at OUTPUT_CAP bytes."""
    try:
        with open(log, "rb") as fh:
            data = fh.read(OUTPUT_CAP + 1)
    except OSError:
        return ""
    text = data[:OUTPUT_CAP].decode("utf-8", "replace")
    return text + ("\n[... output truncated]" if len(data) > OUTPUT_CAP else "")


def remove(path: Path) -> None:
    """Remove the folder, even what the worker made unreadable."""
    def onerror(func: Any, p: str, _exc: Any) -> None:
        try:
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)

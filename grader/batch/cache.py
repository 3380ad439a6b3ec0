"""The batch's cache: what a stored result is keyed by, and so which entries a run grades.

A key covers everything that can change a verdict: the submission's bytes, the grader's own
source and version, the files the exercise's course declares, and the options (seed, device,
timeout).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader import __version__
from grader.batch import gradebook
from grader.errors import UsageError
from grader.intake import discover, load


@dataclass(frozen=True)
class Settings:
    """Options shared by every submission of one batch."""

    seed: int
    device: str
    timeout: float | None

    def key(self) -> str:
        """The options part of the cache key."""
        return json.dumps({"device": self.device, "timeout": self.timeout, "seed": self.seed}, sort_keys=True)


def _tree_files(base: Path, keep: Any = lambda rel: True) -> list[Path]:
    return sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and not p.name.endswith((".pyc", ".pyo")) and keep(p.relative_to(base)))


def _hash_files(h: Any, base: Path, files: list[Path]) -> None:
    for path in files:
        h.update(path.relative_to(base).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())


@lru_cache(maxsize=None)
def grader_hash() -> str:
    """A hash of the grader package's own files (code, templates, data) and its version."""
    base = Path(__file__).resolve().parents[1]  # grader/, every subpackage
    h = hashlib.sha256(__version__.encode() + b"\0")
    _hash_files(h, base, _tree_files(base))
    return h.hexdigest()


@lru_cache(maxsize=None)
def spec_hash(exercise: int) -> str:
    """A hash of what an exercise's verdicts depend on: the grader's own code and version, and
    the files its course declares for it (`Course.verdict_files`: its checks and reference, the
    course's shared files, not the other exercises' files)."""
    from grader.exercises import registry

    h = hashlib.sha256(grader_hash().encode() + b"\0")
    h.update(registry.active().verdict_hash(exercise).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Plan:
    """What a run must grade (entry, key), how many of those are new, and what it reuses or skips."""

    todo: list[tuple[discover.Entry, str]]
    fresh: int
    reused: int
    skipped: tuple[discover.Skipped, ...]


def plan(book: gradebook.Gradebook, entries: list[discover.Entry], settings: Settings, force: bool) -> Plan:
    """Which entries to grade: new ones, changed ones (any part of the key), all with --force.

    A file that cannot be read or hashed is skipped with the reason; the others go on."""
    hashes: dict[int, str] = {}
    todo, skipped, fresh, reused = [], [], 0, 0
    options = settings.key()
    for entry in entries:
        try:
            if entry.exercise not in hashes:
                hashes[entry.exercise] = spec_hash(entry.exercise)
            data = load.read_bytes(entry.path, entry.root)
            key = gradebook.content_key(data, hashes[entry.exercise], __version__, settings.seed, options)
            stored = book.key_of(entry.student, entry.exercise)
        except UsageError as exc:
            skipped.append(discover.Skipped(entry.path, str(exc)))
            continue
        except Exception as exc:  # one file never stops a batch
            skipped.append(discover.Skipped(entry.path, f"could not be read or hashed ({type(exc).__name__}: "
                                                        f"{str(exc)[:200]})"))
            continue
        if stored == key and not force:
            reused += 1
            continue
        fresh += stored is None
        todo.append((entry, key))
    return Plan(todo, fresh, reused, tuple(skipped))

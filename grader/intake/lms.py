"""Submissions straight from an LMS download: Canvas, Gradescope, GitHub Classroom.

- Canvas "Download submissions": flat files `login[_LATE]_USERID_SUBMISSIONID_original.py`;
  the student is the Canvas user id, `LATE` is Canvas's late marker.
- Gradescope "Export submissions": `submission_metadata.yml` beside `submission_N/` folders;
  each folder belongs to its submitters (`:sid:`, else `:email:`), submitted at `:created_at:`.
- GitHub Classroom: one folder per repository (`ASSIGNMENT-USERNAME/.git`); the student is the
  user name, the time the last commit's (`git log -1`, with the repository's hooks and
  dangerous settings switched off, and never for a repository reaching outside the class folder).
Anything else keeps the plain layouts of `discover`; the time is then the file's mtime.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

MTIME, CANVAS_LATE, GRADESCOPE, GIT = ("file modification time", "Canvas late marker", "Gradescope metadata",
                                       "last commit")
METADATA = "submission_metadata.yml"
MAX_METADATA = 16 * 1024 * 1024
CANVAS = re.compile(r"^(?P<login>[^_]+?)(?P<late>_late)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<original>.+)$", re.I)


@dataclass(frozen=True)
class Candidate:
    """A file and whom it belongs to, with the submission time when the source says it."""

    student: str
    path: Path
    submitted_at: float | None = None
    source: str = ""
    late: bool = False  # the LMS marked it late


@dataclass(frozen=True)
class Skipped:
    """A file that is not graded, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class CanvasName:
    user_id: str
    late: bool
    original: str


def canvas_name(name: str) -> CanvasName | None:
    match = CANVAS.match(name)
    if match is None:
        return None
    return CanvasName(match["user"], bool(match["late"]), match["original"])


# ------------------------------------------------------------------ a YAML subset

def _scalar(text: str) -> Any:
    s = text.strip()
    if s in ("{}",):
        return {}
    if s in ("[]",):
        return []
    if s in ("", "~", "null"):
        return None
    if s[0] == "'" and s.endswith("'") and len(s) > 1:
        return s[1:-1].replace("''", "'")
    if s[0] == '"' and s.endswith('"') and len(s) > 1:
        return s[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")
    return re.sub(r"\s+#.*$", "", s)


def _split_key(content: str) -> tuple[str, str] | None:
    """`key: value` (the key maybe quoted, maybe a Ruby symbol `:key`)."""
    match = re.match(r"""^('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|:?[^:#'"][^#]*?|:?[^:]*?):(?:\s+(.*)|$)""", content)
    if match is None:
        return None
    key = _scalar(match.group(1))
    return str(key).lstrip(":"), match.group(2) or ""


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        out.append((len(raw) - len(raw.lstrip(" ")), raw.strip()))
    return out


def _block(lines: list[tuple[int, str]], i: int, indent: int, depth: int = 0) -> tuple[Any, int]:
    if depth > 50:
        raise ValueError("nested too deeply")
    if i < len(lines) and lines[i][1].startswith("-") and lines[i][1][1:2] in ("", " "):
        items = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-") and lines[i][1][1:2] in ("", " "):
            rest = lines[i][1][1:].lstrip()
            if not rest:
                if i + 1 < len(lines) and lines[i + 1][0] > indent:
                    value, i = _block(lines, i + 1, lines[i + 1][0], depth + 1)
                else:
                    value, i = None, i + 1
            elif _split_key(rest) is not None and not rest.startswith(("'", '"')):
                inner = indent + len(lines[i][1]) - len(rest)
                lines[i] = (inner, rest)
                value, i = _block(lines, i, inner, depth + 1)
            else:
                value, i = _scalar(rest), i + 1
            items.append(value)
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent:
        pair = _split_key(lines[i][1])
        if pair is None or lines[i][1].startswith("- "):
            break
        key, value = pair
        i += 1
        if value.strip():
            mapping[key] = _scalar(value)
        elif i < len(lines) and (lines[i][0] > indent or (lines[i][0] == indent and lines[i][1].startswith("-"))):
            mapping[key], i = _block(lines, i, lines[i][0], depth + 1)
        else:
            mapping[key] = None
    return mapping, i


def parse_yaml_subset(text: str) -> Any:
    """Block mappings and lists, plain and quoted scalars: what Gradescope's metadata uses."""
    lines = _lines(text)
    if not lines:
        return {}
    value, i = _block(lines, 0, lines[0][0])
    if i != len(lines):
        raise ValueError(f"unexpected line: {lines[i][1][:80]!r}")
    return value


def load_yaml(text: str) -> Any:
    """PyYAML's safe loader where it is installed, else the subset above."""
    try:
        import yaml
    except ImportError:
        return parse_yaml_subset(text)
    return yaml.safe_load(text)


_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?$")


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch of a metadata time (`2026-09-20 14:45:12.123 -07:00`), UTC if unzoned."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    match = _TIME.match(str(value or "").strip())
    if match is None:
        return None
    y, mo, d, h, mi, s, frac, zone = match.groups()
    tz = dt.timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=tz).timestamp()
    except ValueError:
        return None


def _key(mapping: dict, name: str) -> Any:
    return mapping.get(name, mapping.get(":" + name)) if isinstance(mapping, dict) else None


def gradescope(root: Path, walk: Callable[[Path], Iterator[Path]]) -> tuple[list[Candidate], list[Skipped]]:
    """The files of a Gradescope export, one candidate per submitter; the files of folders not in the
    metadata skipped."""
    meta = root / METADATA
    skipped: list[Skipped] = []
    try:
        if meta.is_symlink():
            raise ValueError("a symbolic link")
        if meta.stat().st_size > MAX_METADATA:
            raise ValueError("too large")
        data = load_yaml(meta.read_bytes().decode("utf-8"))
    except Exception as exc:  # a broken export is reported, not a traceback
        data = {}
        skipped.append(Skipped(meta, f"{METADATA} could not be read ({type(exc).__name__}): no folder is mapped"))
    subs = {str(k).lstrip(":"): v for k, v in data.items()} if isinstance(data, dict) else {}
    out: list[Candidate] = []
    for child in sorted(root.iterdir()):
        if child.name.startswith((".", "__")) or child == meta:
            continue
        record = subs.get(child.name)
        who = [s for s in (_key(record, "submitters") or []) if isinstance(s, dict)] if isinstance(record, dict) else []
        ids = [str(_key(s, "sid") or _key(s, "email") or "").strip() for s in who]
        ids = [i for i in ids if i]
        files = list(walk(child)) if child.is_dir() and not child.is_symlink() else [child]
        if not ids:
            skipped += [Skipped(f, f"not mapped to a student: {child.name} has no submitter in {METADATA}")
                         for f in files]
            continue
        when = timestamp(_key(record, "created_at"))
        out += [Candidate(i, f, when, GRADESCOPE if when is not None else "") for i in ids for f in files]
    return out, skipped


# ------------------------------------------------------------------ GitHub Classroom

def is_repository(folder: Path) -> bool:
    git = folder / ".git"
    return git.is_dir() and not git.is_symlink()


def classroom_students(folders: list[Path]) -> dict[str, str]:
    """Repository folder -> student: the name after the assignment prefix the repositories share."""
    names = [f.name for f in folders]
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[: prefix.rfind("-") + 1] if "-" in prefix else ""
    if len(prefix) < 3 or not any(ch.isalpha() for ch in prefix):  # not an assignment's name
        prefix = ""
    return {n: (n[len(prefix):] or n) for n in names}


def commit_time(repo: Path, root: Path, timeout: float = 10.0) -> float | None:
    """The last commit's time of `repo`, or None. Refused for a repository whose real path, or
    whose objects (alternates, a linked worktree), lie outside the class folder `root`; git runs
    with no hooks, no system or global config, no fsmonitor, no signature checks, no pager."""
    try:
        real, base = repo.resolve(strict=True), root.resolve(strict=True)
    except OSError:
        return None
    git = real / ".git"
    if not real.is_relative_to(base) or not is_repository(real):
        return None
    if (git / "objects" / "info" / "alternates").exists() or (git / "commondir").exists():
        return None
    with tempfile.TemporaryDirectory(prefix="grader-git-") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_DIR": str(git), "GIT_WORK_TREE": str(real),
               "GIT_CEILING_DIRECTORIES": str(base), "GIT_TERMINAL_PROMPT": "0", "GIT_NO_REPLACE_OBJECTS": "1",
               "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
        command = ["git", "-c", "core.hooksPath=/dev/null", "-c", f"safe.directory={real}",
                   "-c", "core.fsmonitor=false", "-c", "log.showSignature=false", "-c", "gpg.program=/bin/false",
                   "--no-pager", "log", "-1", "--format=%ct", "--no-show-signature", "--no-walk=unsorted", "HEAD"]
        try:
            done = subprocess.run(command, cwd=real, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
    text = done.stdout.decode("ascii", "replace").strip()
    return float(text) if done.returncode == 0 and text.isdigit() and len(text) <= 12 else None

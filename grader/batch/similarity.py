"""Similar submissions, for the instructor to read (never a score).

- exact: the same bytes, or the same code once comments, whitespace and names are normalised
  (every identifier becomes `N`, every string `S`, via the tokenize module);
- near: winnowing (Schleimer, Wilkerson, Aiken 2003) over the normalised tokens; the exercise
  stub's own fingerprints are ignored, so the given code does not make everyone similar.
"""
from __future__ import annotations

import hashlib
import io
import json
import keyword
import tokenize
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path
from typing import Iterable

K, WINDOW = 8, 6  # tokens per k-gram, k-grams per winnowing window
THRESHOLD = 0.7  # near duplicates listed from this similarity up
MIN_FINGERPRINTS = 8  # fewer own fingerprints than this: too little code to compare
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
        tokenize.ENDMARKER}


@dataclass(frozen=True)
class Pair:
    exercise: int
    first: str
    second: str
    similarity: float  # 0..1: shared fingerprints over the smaller set (1.0 for exact duplicates)
    kind: str  # "same bytes", "same normalised code" or "near duplicate"


def tokens(code: str) -> list[str]:
    """The code's tokens with comments and layout dropped, names as N, strings as S."""
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in SKIP:
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                out.append("N")
            elif tok.type == tokenize.STRING or tok.type in getattr(tokenize, "FSTRING_TOKENS", ()):
                out.append("S")
            else:
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        pass  # what was read so far still counts
    return out


def fingerprints(toks: list[str], k: int = K, window: int = WINDOW) -> set[int]:
    """Winnowing: the minimum k-gram hash of every window (rightmost on ties)."""
    grams = [int.from_bytes(hashlib.blake2b("\x1f".join(toks[i:i + k]).encode(), digest_size=8).digest(), "big")
             for i in range(max(0, len(toks) - k + 1))]
    if len(grams) <= window:
        return set(grams)
    chosen = set()
    for i in range(len(grams) - window + 1):
        part = grams[i:i + window]
        low = min(part)
        chosen.add(low)
    return chosen


@dataclass(frozen=True)
class Source:
    student: str
    exercise: int
    data: bytes
    code: str


def compare(sources: Iterable[Source], stubs: dict[int, str] | None = None,
            threshold: float = THRESHOLD) -> tuple[Pair, ...]:
    """Pairs of students with the same or nearly the same code for an exercise, most similar first."""
    stubs = stubs or {}
    by_ex: dict[int, list[Source]] = {}
    for s in sources:
        by_ex.setdefault(s.exercise, []).append(s)
    pairs: list[Pair] = []
    for ex, group in by_ex.items():
        given = fingerprints(tokens(stubs[ex])) if ex in stubs else set()
        facts = {}
        for s in group:
            toks = tokens(s.code)
            facts[s.student] = (hashlib.sha256(s.data).digest(), tuple(toks), fingerprints(toks) - given)
        for a, b in combinations(sorted(facts), 2):
            (ha, ta, fa), (hb, tb, fb) = facts[a], facts[b]
            if ha == hb:
                pairs.append(Pair(ex, a, b, 1.0, "same bytes"))
            elif ta == tb and ta:
                pairs.append(Pair(ex, a, b, 1.0, "same normalised code"))
            elif min(len(fa), len(fb)) >= MIN_FINGERPRINTS:
                score = len(fa & fb) / min(len(fa), len(fb))
                if score >= threshold:
                    pairs.append(Pair(ex, a, b, round(score, 3), "near duplicate"))
    return tuple(sorted(pairs, key=lambda p: (-p.similarity, p.exercise, p.first, p.second)))


def code_of(path: Path, root: Path | None) -> tuple[bytes, str]:
    """A submission's bytes and its code (a notebook's code cells joined)."""
    from grader.intake import load

    data = load.read_bytes(path, root)
    text = data.decode("utf-8", "replace")
    if path.suffix.lower() == ".ipynb":
        text = "\n".join(src for _, src in load.notebook_cells(path, text))
    return data, text


def stub(exercise: int) -> str | None:
    """The exercise's stub (exercises/exerciseN.py beside the reference package), if installed."""
    try:
        import reference
    except ImportError:
        return None
    path = Path(reference.__file__).resolve().parent.parent / "exercises" / f"exercise{exercise}.py"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def of_entries(entries: Iterable[object]) -> tuple[Pair, ...]:
    """Similar pairs among discovered entries (unreadable files are left out)."""
    sources, stubs = [], {}
    for e in entries:
        try:
            data, code = code_of(e.path, e.root)  # type: ignore[attr-defined]
        except Exception:  # an unreadable file has its own status elsewhere
            continue
        sources.append(Source(e.student, e.exercise, data, code))  # type: ignore[attr-defined]
        if e.exercise not in stubs:  # type: ignore[attr-defined]
            text = stub(e.exercise)  # type: ignore[attr-defined]
            if text is not None:
                stubs[e.exercise] = text  # type: ignore[attr-defined]
    return compare(sources, stubs)


def to_json(pairs: Iterable[Pair]) -> str:
    return json.dumps([asdict(p) for p in pairs])


def from_json(text: str) -> tuple[Pair, ...]:
    try:
        return tuple(Pair(**p) for p in json.loads(text))
    except (ValueError, TypeError):
        return ()

"""One home for escaping untrusted text, per kind of output.

- `clean`: any text without escape sequences or control characters (newlines kept).
- `text_line`: one line of plain text (terminal, skipped.txt, stderr): every non-printable
  character shown escaped (`\\n`, `\\x1b`, `\\u200b`, a lone surrogate), so nothing can forge a
  line, a column or a colour, and legacy `##[` workflow commands are defused.
- `md_inline` / `md_name` / `md_fence`: Markdown (reports, step summaries, Gradescope output):
  no markup, no raw HTML, no heading or list at the start, no autolinks.
- `csv_cell`: a spreadsheet cell that never starts a formula (OWASP's leading `'`).
- `github_block`: text printed into a GitHub Actions log that can never start a workflow
  command: inside a `::stop-commands::` block with a fresh random token, every line indented.
"""
from __future__ import annotations

import bisect
import functools
import re
import secrets
from typing import Any

_ANSI_SEQ = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
# C0 controls but tab/newline/CR, DEL, C1 controls, lone surrogates, and XML's forbidden U+FFFE/U+FFFF
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LEGACY = "##["  # the runner's legacy command prefix, matched anywhere in a line
_LEGACY_SAFE = "#\\x23["


def clean(text: Any) -> str:
    """`text` as a string without escape sequences or control characters (\\t, \\n kept; \\r -> \\n)."""
    s = str(text)
    s = _ANSI_SEQ.sub("", s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", s)


def defuse_legacy(text: str) -> str:
    """No `##[` left: the GitHub runner parses a legacy command wherever that prefix appears."""
    return text.replace(_LEGACY, _LEGACY_SAFE)


def _visible(ch: str) -> str:
    return ch if ch.isprintable() else repr(ch)[1:-1]


def shown(name: str) -> str:
    """A file or student name for display: undecodable bytes as \\xNN, control characters escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(_visible(c) for c in text)


def text_line(text: Any) -> str:
    """Untrusted text (a name, a reason) for one line of plain text, non-printables shown escaped."""
    return defuse_legacy("".join(_visible(c) for c in str(text)))


# ---------------------------------------------------------------- Markdown

_MD_ESCAPE = re.compile(r"[\\`*\[\]|~$<>&]|(?<!\w)_|_(?!\w)|[.:@]")  # intraword _ is inert in GFM
_MD_LEADING = re.compile(r"^(\d*)([#+=.)-])(?=[\s=-]|$)")
_GTLDS = "com|org|net|edu|gov|mil|int|io|info|biz|dev|app|xyz|online|site|top|shop|link|click"
# What GFM (cmark-gfm), Redcarpet and markdown-it's linkify turn into links: a URL with a scheme,
# `www.`, an e-mail address, a bare domain under a common generic TLD.
# Bounded repetitions keep the scan linear on hostile input ("a.a.a.a...", "a.a@a.a@...").
_AUTOLINK = re.compile(
    r"(?i)(?:\b[a-z][a-z0-9+.-]{0,31}://|\b(?:mailto|xmpp|javascript|data|file|tel):|\bwww\d{0,3}\.)\S*"
    r"|[a-z0-9._+-]{1,64}@[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63}){1,8}"
    rf"|(?<![a-z0-9-])[a-z0-9-]{{1,63}}(?:\.[a-z0-9-]{{1,63}}){{0,8}}\.(?:{_GTLDS})\b\S*")


_CACHED_CHARS = 400  # md_inline remembers its result for strings this short (most repeat in every report)


def md_inline(text: Any) -> str:
    """Untrusted text for one line of Markdown: no markup, no HTML, no table breaks, no autolinks.

    Inside what a renderer would autolink, `.`, `:` and `@` are backslash-escaped (and a word
    joiner, U+2060, precedes `@`): the text reads the same, and no renderer (cmark-gfm as on
    GitHub, markdown-it with linkify, Redcarpet) sees a scheme, a domain or an address any more.
    """
    if type(text) is str and len(text) <= _CACHED_CHARS:  # a pure function of the string: its autolink scan
        return _md_inline_cached(text)  # (a regex over every top-level domain) is done once per string
    return _md_inline(text)


@functools.lru_cache(maxsize=4096)
def _md_inline_cached(text: str) -> str:
    return _md_inline(text)


def _md_inline(text: Any) -> str:
    s = " ".join(clean(text).split())
    spans = [m.span() for m in _AUTOLINK.finditer(s)]  # sorted, not overlapping
    starts = [a for a, _ in spans]

    def sub(m: re.Match[str]) -> str:
        ch = m.group(0)
        if ch in "<>&":
            return {"<": "&lt;", ">": "&gt;", "&": "&amp;"}[ch]
        if ch in ".:@":
            i = bisect.bisect_right(starts, m.start()) - 1
            if i < 0 or m.start() >= spans[i][1]:
                return ch
        if ch == "@":  # cmark-gfm finds addresses in merged text: a word joiner ends the name before @
            return "\u2060\\@"
        return "\\" + ch

    s = _MD_ESCAPE.sub(sub, s)
    return _MD_LEADING.sub(r"\1\\\2", s)  # no heading, list or rule at the start


def md_name(text: Any) -> str:
    """A name (file, student, cell) in Markdown: non-printables shown escaped, then `md_inline`."""
    return md_inline(text_line(text))


def md_fence(text: Any, lang: str = "") -> str:
    """Untrusted text as a fenced code block whose fence no backtick run inside can close."""
    body = clean(text).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


# ---------------------------------------------------------------- CSV

_FORMULA_START = tuple("=+-@\t\r\n") + ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # full-width forms too


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one that could start a formula gets a leading `'`
    (OWASP's CSV-injection advice). Numbers stay numbers; pass the grader's own numbers as such."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    s = str(value)
    if s.startswith(_FORMULA_START) or s.lstrip(" \t\r\n").startswith(_FORMULA_START):
        return "'" + s
    return s


# ---------------------------------------------------------------- GitHub Actions logs

_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def stop_token() -> str:
    """A fresh token for one `::stop-commands::` block (unguessable, never reused)."""
    return "grade-" + secrets.token_hex(16)


def github_block(text: str, token: str | None = None, indent: str = "  ") -> str:
    """`text` for a GitHub Actions log: between `::stop-commands::TOKEN` and `::TOKEN::`, so the
    runner processes no command inside it (V2 `::cmd::` or legacy `##[cmd]`), every line indented
    and `##[` defused as well. Print the grader's own annotations after the block."""
    token = token or stop_token()
    lines = _LINE_BREAK.split(text.rstrip("\r\n")) if text else []
    body = "".join(f"{indent}{defuse_legacy(line)}\n" for line in lines)
    return f"::stop-commands::{token}\n{body}::{token}::\n"

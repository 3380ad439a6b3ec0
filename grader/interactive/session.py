"""A warm `grade` kept by a kernel for `grader.check()`: one server process between calls.

The first check in a kernel starts `grader.cli.serve` (a judge with its warm parent);
later checks send it their arguments and read its answer, so only the first pays for torch's
import. Nothing is graded in the kernel's own process. The server is started again when the
settings it inherited (`GRADER_*` variables, the interpreter) change, when it died or left
(idle), and is stopped when the kernel exits (`close`, an exit handler) or a check is
interrupted. A request that finds the server leaving (its pipe closes before any answer: an
idle exit racing the check, a kill) is sent once more to a new server. `answer` returns None
whenever no server could answer, and the caller then grades with a fresh `grade` process.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

ENTRY = "from grader.cli.serve import run; run()"
REPLY_GRACE_SECONDS = 60.0  # beyond the grade's own limit, before the server is given up on
DEFAULT_LIMIT_SECONDS = 900.0
CLOSE_SECONDS = 5.0
LEFT = object()  # what `_exchange` returns when the server was gone before it answered


@dataclass(frozen=True)
class Answer:
    """What one `grade` printed, and its exit status."""

    status: int
    stdout: str
    stderr: str


@dataclass
class _Server:
    proc: subprocess.Popen[bytes]
    key: tuple[object, ...]
    home: Path  # the server's folder: cwd/ (its working directory, empty) and log
    owner: int  # the pid that started it (a forked kernel does not share it)


_SERVER: _Server | None = None
_LOCK = threading.Lock()
_REGISTERED = False


def key(env: Mapping[str, str]) -> tuple[object, ...]:
    """What a server inherits that changes a grade: the interpreter and the GRADER_* settings."""
    return (sys.executable, tuple(sorted((k, v) for k, v in env.items() if k.startswith("GRADER_"))))


def answer(argv: list[str], env: Mapping[str, str], limit: float | None = None) -> Answer | None:
    """`grade ARGV` on the kept server (started if needed); None if it could not answer."""
    if os.name != "posix":  # select() on pipes
        return None
    with _LOCK:
        for _ in range(2):  # a server that left as the request came (idle, killed): once more, on a new one
            server = _server(env)
            if server is None:
                return None
            try:
                reply = _exchange(server, argv, (limit or DEFAULT_LIMIT_SECONDS) + REPLY_GRACE_SECONDS)
            except BaseException:  # an interrupt mid-grade: the server goes, the next check starts one
                _close_locked(interrupt=True)
                raise
            if isinstance(reply, Answer):
                return reply
            _close_locked()
            if reply is not LEFT:
                return None
        return None


def server_pid() -> int | None:
    """The kept server's pid, or None (tests, `grade doctor`-style questions)."""
    server = _SERVER
    return server.proc.pid if server is not None and server.proc.poll() is None else None


def close() -> None:
    """Stop the kept server, if any: it stops its warm parent and workers; wait for it."""
    with _LOCK:
        _close_locked()


def _server(env: Mapping[str, str]) -> _Server | None:
    global _SERVER, _REGISTERED
    wanted = key(env)
    server = _SERVER
    if server is not None and (server.key != wanted or server.owner != os.getpid() or server.proc.poll() is not None):
        _close_locked()
    if _SERVER is not None:
        return _SERVER
    home = Path(tempfile.mkdtemp(prefix="grader-check-server-"))
    (home / "cwd").mkdir()
    try:
        with open(home / "log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-c", ENTRY], cwd=home / "cwd", env=dict(env),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    except OSError:
        shutil.rmtree(home, ignore_errors=True)
        return None
    _SERVER = _Server(proc, wanted, home, os.getpid())
    if not _REGISTERED:
        _REGISTERED = True
        atexit.register(close)
    return _SERVER


def _exchange(server: _Server, argv: list[str], limit: float) -> Answer | object | None:
    """Send one request, read one answer line (within `limit` seconds): the answer; LEFT when the
    server's end closed before a byte of it came; None on any other failure."""
    assert server.proc.stdin is not None and server.proc.stdout is not None
    try:
        server.proc.stdin.write(json.dumps(argv).encode() + b"\n")
        server.proc.stdin.flush()
    except BrokenPipeError:
        return LEFT
    except OSError:
        return None
    line = _read_line(server.proc.stdout.fileno(), time.monotonic() + limit)
    if line == b"":
        return LEFT
    try:
        data = json.loads(line) if line is not None else None
    except ValueError:
        return None
    if not (isinstance(data, dict) and isinstance(data.get("status"), int)
            and isinstance(data.get("stdout"), str) and isinstance(data.get("stderr"), str)):
        return None
    return Answer(data["status"], data["stdout"], data["stderr"])


def _read_line(fd: int, deadline: float) -> bytes | None:
    """Bytes up to a newline from `fd`; b"" at its end before any byte; None past the deadline
    or at its end mid-line."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None if chunks else b""
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)


def _close_locked(interrupt: bool = False) -> None:
    global _SERVER
    server, _SERVER = _SERVER, None
    if server is None:
        return
    if server.owner == os.getpid():
        try:
            if server.proc.stdin is not None:
                server.proc.stdin.close()  # end of input: it stops its warm parent and leaves
        except OSError:
            pass
        if interrupt and server.proc.poll() is None:
            server.proc.send_signal(signal.SIGINT)  # its grade stops as `grade`'s does on Ctrl-C
        try:
            server.proc.wait(CLOSE_SECONDS)
        except subprocess.TimeoutExpired:  # still busy: its warm parent and workers go when it does
            server.proc.kill()
            server.proc.wait()
        if server.proc.stdout is not None:
            server.proc.stdout.close()
    shutil.rmtree(server.home, ignore_errors=True)

"""The hostile suite's shared parts: cases with their declared verdicts, and the traps set
around them (a canary folder, a TCP listener, a signal counter, a process name to find).

A secret is put in the environment before any worker exists, so the forkserver (and every
worker forked from it) starts with it: a case can then look for it.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("GRADER_TEST_SECRET", "hunter2")

CASES = Path(__file__).resolve().parent / "cases"
HEADER = re.compile(r"^#\s*(\w[\w-]*)\s*(?::\s*(.*))?$")


@dataclass(frozen=True)
class Case:
    """One hostile submission and what it must score."""

    name: str
    path: Path
    what: str
    expect: float
    timeout: float = 20.0
    cpu: int | None = None
    slow: bool = False


def read_case(path: Path) -> Case:
    fields: dict[str, str] = {}
    for line in path.read_text().splitlines()[:8]:
        m = HEADER.match(line.strip())
        if m:
            fields[m.group(1)] = (m.group(2) or "").strip()
    return Case(path.stem, path, fields["hostile"], float(fields["expect"].split()[0]), float(fields.get("timeout", 20)),
                int(fields["cpu"]) if "cpu" in fields else None, "slow" in fields)


def all_cases() -> list[Case]:
    return [read_case(p) for p in sorted(CASES.glob("*.py"))]


class Traps:
    """What a hostile case might reach, set up fresh for each case and checked afterwards."""

    def __init__(self, tmp: Path) -> None:
        self.canary = tmp / "canary"
        self.canary.mkdir()
        (self.canary / "precious.txt").write_text("do not touch")
        self.before = self.snapshot()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.token = "hostile" + secrets.token_hex(4)  # fits a 15-character process name
        self.shm = Path("/dev/shm") / f"{self.token}-precious"  # a file made outside the box
        self.shm_ok = _try(lambda: self.shm.write_text("do not touch"))
        self.hostname = socket.gethostname()
        self.pty_master, self.pty = -1, "/nonexistent"
        if hasattr(os, "openpty"):
            self.pty_master, slave = os.openpty()
            self.pty = os.ttyname(slave)
            os.close(slave)
            os.set_blocking(self.pty_master, False)
        self.signals = 0
        self._old = signal.signal(signal.SIGUSR1, self._count)

    def _count(self, *_: object) -> None:
        self.signals += 1

    def snapshot(self) -> dict[str, bytes]:
        if not self.canary.exists():
            return {}
        return {str(p.relative_to(self.canary)): (p.read_bytes() if p.is_file() else b"<dir>")
                for p in self.canary.rglob("*")} | {".": b"present"}

    def connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, OSError):
                return n
            conn.close()
            n += 1

    def devices_reached(self) -> list[str]:
        """What the case left in /dev/shm, on the host name or in the terminal."""
        out = []
        if self.shm_ok and (not self.shm.exists() or self.shm.read_text() != "do not touch"):
            out.append("a file in /dev/shm made outside the box was changed")
        if any(p.name.startswith(self.token) and p != self.shm for p in _shm_files()):
            out.append("a file was left in /dev/shm")
        if socket.gethostname() != self.hostname:
            out.append("the host name was changed")
        if self.pty_master >= 0:
            try:
                if os.read(self.pty_master, 4096):
                    out.append("text reached the terminal")
            except OSError:
                pass
        return out

    def survivors(self, wait: float = 3.0) -> list[int]:
        """Processes still carrying the case's name after `wait` seconds."""
        end = time.monotonic() + wait
        while True:
            found = named(self.token)
            if not found or time.monotonic() > end:
                return found
            time.sleep(0.05)

    def close(self) -> None:
        for pid in named(self.token):  # never leave a survivor behind, whatever happened
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        signal.signal(signal.SIGUSR1, self._old)
        self.listener.close()
        for p in _shm_files():
            if p.name.startswith(self.token):
                _try(p.unlink)
        if socket.gethostname() != self.hostname:  # only a case that got out changes it
            _try(lambda: socket.sethostname(self.hostname))
        if self.pty_master >= 0:
            os.close(self.pty_master)


def _try(action) -> bool:
    try:
        action()
        return True
    except OSError:
        return False


def _shm_files() -> list[Path]:
    try:
        return list(Path("/dev/shm").iterdir())
    except OSError:
        return []


def named(token: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == token[:15]:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def render(case: Case, traps: Traps, folder: Path) -> Path:
    """The case's source with the traps' coordinates filled in, saved as exerciseN.py."""
    from grader.containment import isolation
    from grader.sandbox import run as sandbox

    sandbox.warm_up()  # restarts a forkserver that an earlier case managed to kill
    source = case.path.read_text()
    from multiprocessing import forkserver

    listener = getattr(forkserver._forkserver, "_forkserver_address", None) or "/nonexistent"
    from grader.exercises import answer_keys

    refs = answer_keys.answer_key_dirs()
    values = {"__CANARY__": str(traps.canary), "__PORT__": str(traps.port), "__JUDGE_PID__": str(os.getpid()),
              "__TOKEN__": traps.token, "__FORKSERVER__": str(listener),
              "__REFERENCE__": refs[0] if refs else "/nonexistent", "__SHM__": str(traps.shm),
              "__PTY__": traps.pty, "__HOSTNAME__": traps.hostname}
    for key, value in values.items():
        source = source.replace(key, value)
    number = re.search(r"#\s*exercise:\s*(\d+)", source).group(1)  # type: ignore[union-attr]
    out = folder / f"exercise{number}.py"
    out.write_text(source)
    return out



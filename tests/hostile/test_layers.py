"""Each defence layer is proved necessary: with it (and its backups) switched off, a hostile
case gets out; with only its backups off, the layer alone holds the case.

Switches are GRADER_TEST_DISABLE_LAYERS (see grader/containment/isolation.py). A layer this machine
cannot give is skipped, since there is nothing to prove there (`grade doctor` lists them).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from grader.containment import isolation
from grader.sandbox import run as sandbox
from grader.errors import GraderBug

from hostile_harness import Traps, read_case
from test_hostile import contained, run_case

CASES = Path(__file__).resolve().parent / "cases"

# (case, the layer proved, its backups: switched off too so that the layer stands alone, slow)
# A fast core runs by default; the rest are marked slow (CI runs them too).
PROOFS = [
    ("read_reference", "landlock", {"mount-hide"}, False),
    ("read_reference", "mount-hide", {"landlock"}, True),
    ("write_outside", "landlock", set(), False),
    ("network", "netns", {"landlock-net", "seccomp"}, False),
    ("network", "landlock-net", {"netns", "seccomp"}, True),
    ("network", "seccomp", {"netns", "landlock-net"}, True),
    ("signal_judge", "pidns", {"landlock-scope"}, False),
    ("signal_judge", "landlock-scope", {"pidns"}, True),
    ("forkserver_socket", "seccomp", {"mount-hide"}, True),
    ("forkserver_socket", "mount-hide", {"seccomp"}, True),
    ("read_judge_memory", "proc-private", {"landlock", "userns", "caps-drop"}, True),
    ("read_judge_memory", "userns", {"landlock", "proc-private", "caps-drop"}, True),
    ("read_judge_memory", "caps-drop", {"landlock", "proc-private", "userns"}, True),
    ("environment_secrets", "env-scrub", set(), False),
    ("devices", "dev-private", {"landlock"}, False),
    ("devices", "landlock", {"dev-private"}, True),
    ("capabilities", "caps-drop", set(), False),
    ("hostname", "utsns", {"caps-drop", "userns"}, True),
    ("hostname", "caps-drop", {"utsns", "userns"}, True),
    ("sockets", "seccomp", set(), False),
    ("daemon_setsid", "pidns", {"cgroup-pids", "cgroup-memory", "cgroup-cpu", "subreaper"}, False),
    ("daemon_setsid", "cgroup-pids", {"pidns", "cgroup-memory", "cgroup-cpu", "subreaper"}, True),
    ("daemon_setsid", "cgroup-cpu", {"pidns", "cgroup-pids", "cgroup-memory", "subreaper"}, True),
    ("daemon_setsid", "subreaper", {"pidns", "cgroup-pids", "cgroup-memory", "cgroup-cpu"}, True),
    ("fork_bomb", "cgroup-pids", {"pid-max", "rlimit-nproc"}, True),
    ("fork_bomb", "pid-max", {"cgroup-pids", "rlimit-nproc"}, True),
    ("memory_bomb", "rlimit-data", {"cgroup-memory"}, True),
    ("disk_fill", "box-quota", set(), True),
    ("cpu_burner", "rlimit-cpu", set(), True),
]


@lru_cache(maxsize=None)
def layers_here() -> tuple[str, ...]:
    sandbox.warm_up()
    return sandbox.confined_layers()


def proof_params():
    for case, layer, backups, slow in PROOFS:
        marks = [pytest.mark.slow] if slow else []
        yield pytest.param(case, layer, frozenset(backups), id=f"{layer}-{case}", marks=marks)


def attempt(case_name: str, disabled: frozenset[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            label: str) -> list[str]:
    case = read_case(CASES / f"{case_name}.py")
    monkeypatch.setenv(isolation.DISABLE_ENV, ",".join(sorted(disabled)))
    traps = Traps(tmp_path / label)
    try:
        try:
            result, seconds = run_case(case, traps, tmp_path / label, monkeypatch)
        except GraderBug as exc:  # the case broke the grader itself: the worst way out
            settle_forkserver()
            return [f"the grader failed: {exc}"]
        problems = contained(case, traps, result, seconds)
        if case_name == "cpu_burner":  # the CPU limit shows in how the load ended, not the score
            if "timed out" in (result.submission_error.summary if result.submission_error else ""):
                problems.append("ran until the wall-clock limit")
        return problems
    finally:
        traps.close()
        if case_name == "forkserver_socket":  # it may have killed the forkserver: let that finish
            settle_forkserver(wait=3.0)


def settle_forkserver(wait: float = 10.0) -> None:
    """Wait until a forkserver that a case killed has finished dying (without reaping it),
    so that the next case is rendered with the address of its successor."""
    import time
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    end = time.monotonic() + wait
    while pid and time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            return
        if stat[stat.rindex(b")") + 2 :].split()[0] in (b"Z", b"X"):
            return
        time.sleep(0.05)


def test_every_layer_named_in_a_proof_exists():
    assert {layer for _, layer, _, _ in PROOFS} <= set(isolation.LAYERS)


@pytest.mark.parametrize("case_name, layer, backups", list(proof_params()))
def test_layer_is_what_stops_the_case(case_name: str, layer: str, backups: frozenset[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch):
    if layer not in layers_here():
        pytest.skip(f"{layer} is not available on this machine")
    for d in ("alone", "off"):
        (tmp_path / d).mkdir()
    alone = attempt(case_name, backups, tmp_path, monkeypatch, "alone")
    assert alone == [], f"{layer} alone did not hold {case_name}: {alone}"
    off = attempt(case_name, backups | {layer}, tmp_path, monkeypatch, "off")
    assert off != [], f"{case_name} was contained without {layer} and {sorted(backups)}: the case proves nothing"

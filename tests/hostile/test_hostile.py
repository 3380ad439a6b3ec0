"""Every hostile case scores what its header declares, finishes within a generous bound,
and leaves the canary folder, the judge and the machine as they were.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader.sandbox import run as sandbox
from grader.protocol.jobs import Limits

from hostile_harness import Case, Traps, all_cases, render

GIB = 1024**3
SLACK = 30.0  # seconds beyond a case's own time limit: generous, the machine is shared


def limits_for(case: Case):
    """Resource limits for hostile runs: smaller memory so bombs stay cheap."""
    def make(timeout: float) -> Limits:
        return Limits(cpu_seconds=case.cpu or int(timeout) + 5, memory_bytes=2 * GIB)
    return make


@pytest.fixture
def traps(tmp_path: Path):
    t = Traps(tmp_path)
    yield t
    t.close()


def run_case(case: Case, traps: Traps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from conftest import grade

    monkeypatch.setattr(sandbox, "default_limits", limits_for(case))
    folder = tmp_path / "submission"
    folder.mkdir()
    path = render(case, traps, folder)
    t0 = time.monotonic()
    result = grade(path, timeout=case.timeout)
    return result, time.monotonic() - t0


def contained(case: Case, traps: Traps, result, seconds: float) -> list[str]:
    """Every way the case got out; empty when it was contained."""
    problems = []
    if result.score != case.expect:
        problems.append(f"scored {result.score}, expected {case.expect}")
    if seconds > case.timeout + SLACK:
        problems.append(f"took {seconds:.1f} s")
    if traps.snapshot() != traps.before:
        problems.append("the canary folder changed")
    if traps.connections():
        problems.append("the TCP listener was reached")
    if traps.signals:
        problems.append("the judge received a signal")
    problems += traps.devices_reached()
    if traps.survivors():
        problems.append("a process survived grading")
    return problems


CASES = all_cases()


def params(cases: list[Case]):
    return [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in cases]


def test_at_least_25_cases():
    assert len(CASES) >= 25
    assert all(c.what and c.path.read_text().startswith("# exercise:") for c in CASES)


@pytest.mark.parametrize("case", params(CASES))
def test_case_is_contained(case: Case, traps: Traps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    result, seconds = run_case(case, traps, tmp_path, monkeypatch)
    assert contained(case, traps, result, seconds) == []
    assert result.isolation, "the report must name the isolation layers"

"""The judge's no-op cgroup migration before a worker's join: it moves nothing."""
from __future__ import annotations

import sys
import threading

import pytest

from grader.containment import cgroups


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="cgroups are Linux only")
def test_a_prime_leaves_the_judge_where_it_was() -> None:
    if not cgroups.available():
        pytest.skip("no writable cgroup here")
    before = open("/proc/self/cgroup").read()
    cgroups.prime()
    for thread in [t for t in threading.enumerate() if t.name == "cgroup-prime"]:
        thread.join(10)
    assert open("/proc/self/cgroup").read() == before
    assert cgroups._PRIME_TARGET and cgroups._PRIME_TARGET[0] is not None


def test_without_a_cgroup_a_prime_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroups, "_PRIME_TARGET", [None])
    started = threading.active_count()
    cgroups.prime()
    assert threading.active_count() == started

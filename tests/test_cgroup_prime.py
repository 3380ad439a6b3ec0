"""The judge's no-op cgroup migrations while a worker starts: they move nothing, and stop."""
from __future__ import annotations

import sys
import threading
import time

import pytest

from grader.containment import cgroup_prime, cgroups


def _primers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cgroup-prime"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="cgroups are Linux only")
def test_priming_leaves_the_judge_where_it_was_and_stops_after_the_start() -> None:
    if not cgroups.available():
        pytest.skip("no writable cgroup here")
    before = open("/proc/self/cgroup").read()
    with cgroup_prime.priming():
        with cgroup_prime.priming():  # two starts at once: one thread
            time.sleep(3 * cgroup_prime.EVERY)
            assert len(_primers()) == 1
        time.sleep(2 * cgroup_prime.EVERY)
        assert _primers(), "it goes on while a start is still under way"
    for thread in _primers():
        thread.join(10)
        assert not thread.is_alive()
    assert open("/proc/self/cgroup").read() == before
    assert cgroup_prime._TARGET and cgroup_prime._TARGET[0] is not None
    assert not cgroup_prime._STATE["running"] and cgroup_prime._STATE["starting"] == 0


def test_without_a_cgroup_priming_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroup_prime, "_TARGET", [None])
    started = threading.active_count()
    with cgroup_prime.priming():
        assert threading.active_count() == started


def test_a_refused_migration_stops_the_priming_for_good(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(cgroup_prime, "_TARGET", [str(tmp_path / "no-such-dir" / "cgroup.procs")])
    with cgroup_prime.priming():
        for thread in _primers():
            thread.join(10)
    assert cgroup_prime._TARGET == [None]
    assert not cgroup_prime._STATE["running"]

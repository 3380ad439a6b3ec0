"""The judge against a fake worker that sends random and adversarial frames: truncated,
oversized, of the wrong types, stalling mid-message, nothing at all.

Whatever arrives, `sandbox.run` returns, no later than its deadline plus a small margin, every
fake worker is killed, and the judge's verdict code (`decide`, `submission_failure`,
`cell_errors`) raises nothing. The fake is a forked child of this process writing a
scripted byte stream into the judge's pipe; the expected answers are the reference's.
"""
from __future__ import annotations

import json
import os
import signal
import struct
import time
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.judge import failures, grade as judge
from grader.sandbox import run as sandbox
from grader.protocol import wire
from grader.exercises.spec import load_exercise

TIMEOUT = 0.6
MARGIN = 1.5  # seconds the judge may take beyond the deadline (kills, joins; a loaded machine)
FAST = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
MANY = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def planned():
    """Exercise 1's checks, their tasks, and the reference's answers to them."""
    plan = judge.plan(load_exercise(1), 1)
    tasks = [t for p in plan for t in p.tasks]
    sandbox.warm_up()
    ref = sandbox.start_reference("reference.exercise1", tasks)
    sandbox.reference_ready(ref)
    return plan, tasks, sandbox.collect_reference(ref, tasks, timeout=120)


# ------------------------------------------------------------------ the fake worker

@dataclass
class Fd:
    fd: int

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class FakeProcess:
    """Enough of multiprocessing.Process for sandbox.Worker, around a forked child."""

    def __init__(self, pid: int) -> None:
        self.pid, self.exitcode, self.killed = pid, None, False
        self.sentinel = os.pidfd_open(pid)

    def kill(self) -> None:
        self.killed = True
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def join(self, timeout: float | None = None) -> None:
        end = time.monotonic() + (timeout or 0)
        while self.exitcode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exitcode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
                os.close(self.sentinel)
                return
            if time.monotonic() > end:
                return
            time.sleep(0.01)


def fork_fake(script: list[bytes | float], hang: bool) -> tuple[sandbox.Worker, FakeProcess]:
    """A child that writes `script` (bytes are written, floats are pauses), then hangs or exits."""
    r, w = os.pipe()
    tr, tw = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fake worker: only os calls, then os._exit
        try:
            os.close(r)
            os.close(tw)
            for step in script:
                if isinstance(step, float):
                    time.sleep(step)
                else:
                    os.write(w, step)
            while hang:
                time.sleep(60)
        finally:
            os._exit(0)
    os.close(w)
    os.close(tr)
    proc = FakeProcess(pid)
    return sandbox.Worker(proc, Fd(r), None, reap=False, tasks=Fd(tw)), proc


# ------------------------------------------------------------------ frames

def frame(body: bytes) -> bytes:
    return struct.pack("!i", len(body)) + body


def raw_message(header_json: bytes, payload: bytes = b"") -> bytes:
    return wire.MAGIC + struct.pack(">I", len(header_json)) + header_json + payload


CONFINED = frame(wire.encode({"type": "confined", "layers": ["setsid"], "missing": []}))
LOADED = frame(wire.encode({"type": "loaded", "errors": [], "offsets": []}))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@st.composite
def answers(draw, expected: dict[int, wire.Message]) -> bytes:
    """A well-framed message that looks like an answer, with some fields replaced by junk."""
    tid = draw(st.sampled_from(sorted(expected)) | st.integers(-2, 400))
    base = expected.get(tid) or expected[min(expected)]
    header = json.loads(json.dumps({**base.header, "task": tid}, default=str))
    kind = draw(st.sampled_from(["junk-field", "junk-info", "error", "huge-int", "loaded", "as-is"]))
    if kind == "huge-int":
        return frame(raw_message(b'{"type": "answer", "task": %d, "info": {"value": %s}}' % (tid, b"9" * 5000)))
    if kind == "junk-field":
        header[draw(st.sampled_from(["type", "task", "info", "kind"]))] = draw(json_values)
    elif kind == "junk-info" and isinstance(header.get("info"), dict) and header["info"]:
        header["info"][draw(st.sampled_from(sorted(header["info"])))] = draw(json_values)
    elif kind == "error":
        header = {"type": "error", "task": tid, "kind": draw(st.sampled_from(["raised", "missing", "signature", "x"])),
                  "message": draw(json_values), "error": draw(json_values | st.fixed_dictionaries(
                      {"type": json_values, "message": json_values, "frames": json_values}))}
    elif kind == "loaded":
        header = {"type": "loaded", "errors": draw(json_values), "more_errors": draw(json_values),
                  "offsets": draw(json_values)}
    arrays = base.arrays if draw(st.booleans()) else {}
    try:
        return frame(wire.encode(header, arrays))
    except (TypeError, ValueError):
        return frame(wire.encode({"type": "answer", "task": tid}))


@st.composite
def adversarial(draw, expected: dict[int, wire.Message]) -> bytes | float:
    kind = draw(st.sampled_from(["answer", "answer", "bytes", "truncated", "oversized", "stall", "huge-header"]))
    if kind == "answer":
        return draw(answers(expected))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "truncated":
        whole = draw(answers(expected))
        return whole[:draw(st.integers(0, len(whole) - 1))]
    if kind == "oversized":
        return draw(st.sampled_from([struct.pack("!i", 0x7FFFFFFF), struct.pack("!iQ", -1, 2**40),
                                     struct.pack("!i", -5), struct.pack("!i", wire.MAX_MESSAGE_BYTES + 1)]))
    if kind == "huge-header":
        return frame(wire.MAGIC + struct.pack(">I", 2**31) + b"{}")
    return draw(st.floats(0.05, 1.0))


@st.composite
def scripts(draw, expected: dict[int, wire.Message]) -> tuple[list[bytes | float], bool]:
    script: list[bytes | float] = [CONFINED]
    if draw(st.booleans()):
        script.append(LOADED)
    script += draw(st.lists(adversarial(expected), max_size=6))
    return script, draw(st.booleans())


# ------------------------------------------------------------------ the property

def drive(planned, monkeypatch: pytest.MonkeyPatch, workers: list[tuple[list[bytes | float], bool]]) -> None:
    plan, tasks, expected = planned
    started: list[FakeProcess] = []

    def fake_start(*_a, **_k):
        worker, proc = fork_fake(*workers[len(started) % len(workers)])
        started.append(proc)
        return worker

    monkeypatch.setattr(sandbox, "start_student", fake_start)
    t0 = time.monotonic()
    run = sandbox.run((), tasks, timeout=TIMEOUT, device="cpu", seed=1)
    elapsed = time.monotonic() - t0
    try:
        assert elapsed <= TIMEOUT + MARGIN, f"the judge took {elapsed:.2f} s"
        assert set(run.outcomes) == {t.id for t in tasks}
        for p in plan:
            judge.decide(p, expected, run, TIMEOUT)
        failures.submission_failure(run, TIMEOUT)
        failures.cell_errors(run)
        assert started and all(proc.killed for proc in started)
    finally:
        for proc in started:
            proc.kill()
            proc.join(5)
    assert all(proc.exitcode is not None for proc in started), "a fake worker outlived the run"


@FAST
@given(data=st.data())
def test_the_judge_survives_any_worker(planned, monkeypatch: pytest.MonkeyPatch, data) -> None:
    expected = planned[2]
    with monkeypatch.context() as m:
        drive(planned, m, data.draw(st.lists(scripts(expected), min_size=1, max_size=3)))


@pytest.mark.slow
@MANY
@given(data=st.data())
def test_the_judge_survives_any_worker_many(planned, monkeypatch: pytest.MonkeyPatch, data) -> None:
    expected = planned[2]
    with monkeypatch.context() as m:
        drive(planned, m, data.draw(st.lists(scripts(expected), min_size=1, max_size=3)))


@pytest.mark.parametrize("script", [
    [CONFINED, struct.pack("!i", 1000) + b"GRD2"],  # a length, a little, then silence
    [CONFINED, LOADED, struct.pack("!i", 5000)],  # the answer's length, then silence
    [CONFINED],  # nothing after confirming
    [CONFINED, LOADED, frame(raw_message(b'{"type": "answer", "task": 0, "info": ' + b"1" * 5000 + b"}"))],
    [CONFINED, frame(wire.encode({"type": "loaded", "errors": "boom", "offsets": 3}))],
    [CONFINED, LOADED, frame(wire.encode({"type": "error", "task": 0, "kind": "raised",
                                          "error": {"type": 5, "message": ["x"], "frames": 7}}))],
    [CONFINED, LOADED, frame(wire.encode({"type": "answer", "task": 0, "info": "not an object"}))],
    [CONFINED, LOADED, frame(wire.encode({"type": "answer", "task": 0, "info": {"result": [[[[]]]]}}))],
], ids=["stall-in-loaded", "stall-in-answer", "silence", "huge-int", "errors-string", "frames-int",
        "info-string", "nested-junk"])
def test_named_adversaries(planned, monkeypatch: pytest.MonkeyPatch, script) -> None:
    drive(planned, monkeypatch, [(script, True)])


def test_answers_over_the_budget_are_refused_as_they_arrive(planned, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker sending the length of a huge answer is refused before the body is read."""
    plan, tasks, expected = planned
    monkeypatch.setattr(sandbox, "ANSWER_BUDGET", 10_000)
    body = wire.encode({"type": "answer", "task": 0, "info": {}}, {"x": np.zeros(5000)})
    script = [CONFINED, LOADED] + [frame(body)] * 3
    started = []
    monkeypatch.setattr(sandbox, "start_student", lambda *a, **k: started.append(fork_fake(script, True)) or started[-1][0])
    run = sandbox.run((), tasks, timeout=TIMEOUT, device="cpu", seed=1)
    first = run.outcomes[tasks[0].id]
    assert first.message is None and first.problem == "protocol" and "over the limit" in first.detail
    assert all(w.received < 2000 < len(body) for w, _ in started)  # the start-up messages, no answer
    assert all(p.killed for _, p in started)

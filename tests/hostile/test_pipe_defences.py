"""The judge's own defences on the pipe from the worker, each proved necessary: with it switched
off (monkeypatched here, in the judge's process), its hostile case gets out; with it on, the
case is contained (tests/hostile/test_hostile.py grades every case with all defences on).

- stall_mid_frame: the deadline covers the whole frame (wire.read_frame), not only its start.
- malformed_answers: every field the judge uses is type-checked (failures.parse_error and friends).
- huge_answers: a total answer budget per submission and per-task caps from the expected sizes.
- a notebook of 600 raising cells: cell errors are capped in the worker (worker.MAX_UNIT_ERRORS).
- replay_inputs_at_import: a task's inputs reach the worker only when that task starts.
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from conftest import grade
from grader.judge import expected, failures, reference_runs
from grader.sandbox import process, run as sandbox
from grader.protocol import wire
from grader.protocol.jobs import Unit
from grader.results.model import Frame, StudentError

from hostile_harness import CASES, Traps, read_case, render

CORRECT = "def squared_loss(y_hat, y):\n    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2"


def _render(name: str, tmp_path: Path) -> tuple[Path, float]:
    case = read_case(CASES / f"{name}.py")
    traps = Traps(tmp_path)
    try:
        (tmp_path / "submission").mkdir()
        return render(case, traps, tmp_path / "submission"), case.timeout
    finally:
        traps.close()


def test_stall_mid_frame_hangs_the_judge_without_the_frame_deadline(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path, timeout = _render("stall_mid_frame", tmp_path)
    grade(path, timeout=timeout)  # warm: the reference's answers are cached
    real = wire.read_frame
    # Switched off: the deadline bounds only the wait for a frame to start, as it once did.
    monkeypatch.setattr(wire, "read_frame", lambda fd, deadline, cap, sentinel=None:
                        _first_byte_only(real, fd, deadline, cap, sentinel))
    done = threading.Event()
    thread = threading.Thread(target=lambda: (grade(path, timeout=timeout), done.set()), daemon=True)
    thread.start()
    thread.join(timeout + 10)
    hung = not done.is_set()
    for pid in list(process.LIVE):  # let the stuck judge go
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    thread.join(30)
    assert hung, "stall_mid_frame was contained without the whole-frame deadline: the case proves nothing"


def _first_byte_only(real, fd, deadline, cap, sentinel):
    import select
    import time

    ready = select.select([fd, sentinel], [], [], max(0.0, deadline - time.monotonic()))[0]
    if not ready:
        raise wire.Stalled()
    return real(fd, time.monotonic() + 3600, cap, sentinel)


def _old_parse_error(raw):
    """failures.parse_error as it was: it trusted the worker's types."""
    if not isinstance(raw, dict):
        return StudentError("Error", "no details")
    frames = []
    for f in raw.get("frames") or []:
        if isinstance(f, dict) and isinstance(f.get("line"), int):
            frames.append(Frame(str(f.get("file", ""))[:200], f["line"], str(f.get("function", ""))[:100],
                                str(f.get("code", ""))[:200]))
    return StudentError(str(raw.get("type", "Error"))[:80], str(raw.get("message", ""))[:2000], tuple(frames[-8:]))


def test_malformed_answers_crash_the_judge_without_type_checks(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path, timeout = _render("malformed_answers", tmp_path)
    result = grade(path, timeout=timeout)
    assert result.score == 0
    monkeypatch.setattr(failures, "parse_error", _old_parse_error)
    with pytest.raises((TypeError, ValueError)):
        grade(path, timeout=60)  # time enough for the first forged answer on a loaded machine


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the messages the judge decodes."""
    sizes: list[int] = []
    real = wire.decode
    monkeypatch.setattr(wire, "decode", lambda data: (sizes.append(len(data)), real(data))[1])
    return sizes


def test_huge_answers_are_refused_by_their_expected_size(tmp_path: Path, decoded: list[int]) -> None:
    path, timeout = _render("huge_answers", tmp_path)
    grade(ROOT_REFERENCE, timeout=timeout)  # the expected answers are known: per-task caps apply
    decoded.clear()
    assert grade(path, timeout=timeout).score == 0
    assert sum(decoded) < 1024**2, "answers far larger than the expected shapes were read whole"


@pytest.mark.slow
def test_huge_answers_fill_the_judge_without_caps_and_budget(tmp_path: Path, decoded: list[int],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path, timeout = _render("huge_answers", tmp_path)
    reference_runs.RUNS.clear()  # no expected sizes: only the total budget holds
    assert grade(path, timeout=30).score == 0
    assert sandbox.ANSWER_BUDGET // 2 < sum(decoded) <= sandbox.ANSWER_BUDGET
    decoded.clear()
    monkeypatch.setattr(sandbox, "ANSWER_BUDGET", 1 << 40)
    monkeypatch.setattr(expected, "answer_caps", lambda answers: {})
    grade(path, timeout=30)
    assert sum(decoded) > 2 * 256 * 1024**2, "the case proves nothing: it sends less than the budget"


RAISING_CELL = ("def deep(n):\n    if n:\n        return deep(n - 1)\n    raise ValueError('cell {i} ' + 'x' * 3000)\n"
                "deep(12)")


def test_a_notebook_with_600_raising_cells_still_grades(tmp_path: Path) -> None:
    cells = ["# exercise: 1", CORRECT] + [RAISING_CELL.format(i=i) for i in range(600)]
    path = tmp_path / "exercise1.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), str(path))
    result = grade(path)
    assert result.submission_error is None
    assert result.passed or all(c.passed for c in result.checks if not c.hidden)
    assert len(result.extras["cell_errors"]) == 20 and result.extras["cell_errors_more"] == 580
    assert result.extras["cell_errors"][0]["error"].type == "ValueError"


def test_uncapped_cell_errors_overflow_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switched off (no cap in the worker), the "loaded" message is over the judge's limit."""
    from grader.worker import student as worker

    units = tuple(Unit(f"nb [cell {i}]", RAISING_CELL.format(i=i)) for i in range(600))
    sizes, capped = {}, worker.MAX_UNIT_ERRORS
    for cap in (capped, 10**6):
        monkeypatch.setattr(worker, "MAX_UNIT_ERRORS", cap)
        _, errors, more = worker.load(units, stop_on_error=False)
        sizes[cap] = len(wire.encode({"type": "loaded", "errors": errors, "more_errors": more}))
    assert sizes[capped] < sandbox.LOADED_CAP <= wire.MAX_HEADER_BYTES < sizes[10**6]


def test_no_task_input_reaches_the_worker_at_import(tmp_path: Path) -> None:
    path, timeout = _render("replay_inputs_at_import", tmp_path)
    result = grade(path, timeout=timeout)
    assert "[replay] inputs seen at import: 0" in result.output
    assert result.score == 1  # only "leaves its inputs unchanged", which y_hat * 0 passes


def test_inputs_sent_at_start_are_replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switched off (every task's inputs sent when the worker starts), the case scores full marks."""
    import pickle
    import time

    path, timeout = _render("replay_inputs_at_import", tmp_path)
    real = sandbox._session

    def leaky(worker, units, log, pending, *rest):
        for task in pending:
            wire.write_frame(worker.tasks.fileno(), pickle.dumps(task), time.monotonic() + 30)
        return real(worker, units, log, pending, *rest)

    monkeypatch.setattr(sandbox, "_session", leaky)
    result = grade(path, timeout=timeout)
    assert "[replay] inputs seen at import: 0" not in result.output
    assert result.score > 1


ROOT_REFERENCE = Path(__file__).resolve().parents[2] / "reference/exercise1.py"

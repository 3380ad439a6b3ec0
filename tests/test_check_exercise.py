"""`grade check-exercise`: mutants from the syntax tree, graded in the confined worker."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from grader.authoring import mutants as mutation
from grader.authoring import strength
from grader.cli import app
from grader.exercises.spec import load_exercise

ROOT = Path(__file__).resolve().parent.parent

SOURCE = '''import torch


def f(x, y, params):
    """Doc."""
    z = x.reshape(-1, 1) - y.T
    with torch.no_grad():
        for p in params:
            p -= 0.5 * p.grad
            p.grad.zero_()
    total = z.sum() / 2
    total = total + 1
    return torch.add(x, y), total
'''


def _operators(source: str = SOURCE) -> dict[str, str]:
    return {m.operator: m.diff for m in mutation.mutants(source, "f")}


def test_every_kind_of_mutation_is_made():
    ops = _operators()
    expected = ["`-` -> `+`", "`/` -> `*`", "`*` -> `/`", "`+` -> `-`", "`0.5` x2 -> `1.0`", "`0.5` x1/2 -> `0.25`",
                "`2` x1/2 -> `1`", "`sum` -> `mean`", "dropped `.reshape(...)`", "dropped `.T`",
                "swapped the first two arguments of `add`", "swapped the operands of `-`",
                "removed `with torch.no_grad()`", "added `.detach()`",
                "in place -> out of place (`p = p - ...`)", "out of place -> in place"]
    missing = [e for e in expected if e not in ops]
    assert not missing, sorted(ops)
    assert any(op.startswith("removed `z = ") for op in ops)
    assert "-    z = x.reshape(-1, 1) - y.T\n+    z = x - y.T" in ops["dropped `.reshape(...)`"]
    assert "+            p = p - 0.5 * p.grad" in ops["in place -> out of place (`p = p - ...`)"]


def test_mutants_are_distinct_valid_and_leave_the_docstring():
    found = mutation.mutants(SOURCE, "f")
    sources = [m.source for m in found]
    assert len(set(sources)) == len(sources)
    for m in found:
        compile(m.source, "m", "exec")
        assert '"""Doc."""' in m.source and m.diff
    assert [m.index for m in found] == list(range(1, len(found) + 1))


def test_no_detach_in_numpy_code_and_a_fixed_sample():
    numpy_source = "import numpy as np\nimport torch\n\ndef g(x):\n    return np.sqrt(x) * 2\n"
    assert not any("detach" in m.operator for m in mutation.mutants(numpy_source, "g"))
    all_of = mutation.mutants(SOURCE, "f")
    sample = mutation.mutants(SOURCE, "f", limit=5)
    assert len(sample) == 5 and [m.diff for m in sample] == [m.diff for m in mutation.mutants(SOURCE, "f", limit=5)]
    assert {m.diff for m in sample} <= {m.diff for m in all_of}
    with pytest.raises(LookupError):
        mutation.mutants(SOURCE, "missing")


def test_stub_for_replaces_only_graded_bodies():
    stub = strength.stub_for(SOURCE + "\ndef h():\n    return 1\n", ["f"])
    assert "raise NotImplementedError('f: write your code here')" in stub and "return 1" in stub


def test_check_exercise_1_kills_every_mutant(tmp_path, capsys):
    out = tmp_path / "report.json"
    assert app.main(["check-exercise", "1", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    fn = data["functions"]["squared_loss"]
    assert data["ok"] and fn["score"] == 1.0 and fn["killed"] == fn["mutants"] - fn["equivalent"] > 5
    # (a - b) ** 2 == (b - a) ** 2: recognised as equivalent, not counted against the checks
    assert any("swapped the operands of `-`" == e["operator"] for e in fn["equivalents"])
    assert all(g["score"] == 10 for g in data["reference"]) and all(g["score"] == 0 for g in data["stub"])
    text = capsys.readouterr().out
    assert "squared_loss" in text and "checks are strong enough" in text


def test_weak_checks_leave_survivors_with_their_diff():
    exercise = load_exercise(1)
    weak = dataclasses.replace(exercise, checks=tuple(c for c in exercise.checks if "unchanged" in c.name))
    source = strength.reference_path(exercise).read_text()
    found = mutation.mutants(source, "squared_loss", header="# exercise: 1\n")
    stub = (ROOT / "exercises/exercise1.py").read_text()
    result = strength.measure(weak, "# exercise: 1\n" + source, stub, found, [3], jobs=2)
    fn = result.functions[0]
    assert fn.survivors and fn.score is not None and fn.score < 0.9 and not result.ok
    assert all(v.mutant.diff.count("\n+") + v.mutant.diff.startswith("+") >= 1 for v in fn.survivors)
    assert result.reference[0].identical and not result.problems
    from grader.cli.check_exercise import render

    text = render(result)
    assert "BELOW TARGET" in text and "survivors of squared_loss:" in text and "reference: 1/1" in text
    assert fn.survivors[0].mutant.diff.splitlines()[-1] in text


def test_bad_usage_is_one_line_and_writes_the_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert app.main(["check-exercise", "99", "--json", str(out)]) == 2
    assert "there is no exercise 99" in capsys.readouterr().err
    assert json.loads(out.read_text())["ok"] is False
    assert app.main(["check-exercise", "1", "--functions", "nope"]) == 2
    assert app.main(["check-exercise", "1", "--seeds", "0"]) == 2


FREE_SOURCE = '''import torch


def g(x):
    """Doc."""
    w = torch.normal(0, 0.01,  # mutation: free (the contract leaves the initialisation free)
                     size=(x.shape[0], 1))
    return x * 2 + w.sum() * 0
'''


def test_mutants_of_lines_marked_free_carry_the_reason():
    assert mutation.free_lines(FREE_SOURCE) == {6: "the contract leaves the initialisation free"}
    assert mutation.free_lines("x = 1  # mutation: free\n") == {1: "marked free in the reference"}
    assert mutation.free_lines("x = 1  # mutation: not free\ny = 2  # mutation: free: why\n") == {2: "why"}
    found = {m.operator: m.free for m in mutation.mutants(FREE_SOURCE, "g")}
    free = {op for op, why in found.items() if why}
    assert free == {"`0.01` x2 -> `0.02`", "`0.01` x1/2 -> `0.005`", "swapped the first two arguments of `normal`"}
    assert all(why == "the contract leaves the initialisation free" for why in map(found.get, free))
    # the size on the next line and the statement as a whole are not free
    assert not found["`1` x2 -> `2`"] and not found["added `.detach()`"]
    assert not any(why for op, why in found.items() if op.startswith("removed `w = "))


def _verdict(free: str, failed: tuple[str, ...], differs: frozenset[int] = frozenset({1})) -> strength.MutantVerdict:
    m = mutation.Mutant("g", 1, "op", 6, "src", "diff", free)
    return strength.MutantVerdict(m, (strength.Graded(1, 0.0 if failed else 1.0, failed, differs),))


def test_free_survivors_leave_the_score_killed_ones_count():
    verdicts = (_verdict("why", ()), _verdict("why", ("g: check",)), _verdict("", ()), _verdict("", ("g: check",)),
                _verdict("why", (), frozenset()))
    fn = strength.FunctionScore("g", verdicts)
    assert [v.free for v in verdicts] == [True, False, False, False, False]
    assert (len(fn.free), len(fn.killed), len(fn.equivalent), len(fn.survivors), fn.counted) == (1, 2, 1, 1, 3)
    assert fn.score == 2 / 3
    result = strength.Strength(9, "t", (1,), ("g: check",), (), (), "", (fn,), 0.5)
    data = strength.to_json(result)["functions"]["g"]
    assert data["free"] == 1 and data["free_by_the_contract"][0]["reason"] == "why" and len(data["survivors"]) == 1
    from grader.cli.check_exercise import render

    text = render(result)
    assert "2/3 killed (66.7%), 1 equivalent, 1 free by the contract" in text
    assert "free by the contract, not counted (g):\n  #1 line 6: op (why)" in text

"""Precomputed expected answers: the student bundle's answer key, as data.

For each exercise and each public seed, a store holds the inputs of every public task and
the reference's answer to it: `exerciseN/seed-S.json` (task list, probe params, answer
headers) beside `exerciseN/seed-S.npz` (inputs and answer arrays, read with
``allow_pickle=False``). No reference source is needed to read it, and nothing is pickled.

The judge plans the tasks from the seed as usual, then asks the store for the expected
answers: the store checks that the planned inputs are exactly those the answers were
computed from (same check, function, probe, params and array bytes) and returns the same
`wire.Message`s the reference worker would have sent. Hidden checks have no stored answers:
they run at submission, with the reference, on fresh inputs.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import wire
from .errors import GraderBug, UsageError
from .jobs import Task

FORMAT = 1
PACKAGE = "reference_data"  # the generated package that carries a store in the student bundle
ENV = "GRADER_ANSWERS"  # a store folder to use instead (instructors trying a store out)
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Record:
    """One stored task: what it was computed from, and the reference's answer."""

    check: str
    function: str
    probe: str
    params: Any
    inputs: dict[str, np.ndarray]
    answer: wire.Message


def _canonical(value: Any) -> Any:
    """Params as JSON sees them (tuples become lists), for comparison with stored ones."""
    return json.loads(json.dumps(value, default=wire._json_default))


def _file_stem(exercise: int, seed: int) -> str:
    return f"exercise{exercise}/seed-{seed}"


def write(root: Path, exercise: int, seed: int, checks: Sequence[str], tasks: Sequence[Task],
          expected: dict[int, wire.Message]) -> None:
    """Store the public `tasks` of one exercise and seed with the reference's answers.

    `checks[i]` is the test name of the check that `tasks[i]` belongs to.
    """
    arrays: dict[str, np.ndarray] = {}
    records = []
    for i, (check, task) in enumerate(zip(checks, tasks, strict=True)):
        answer = expected[task.id]
        inputs, outputs = list(task.arrays), list(answer.arrays)
        arrays.update({f"t{i}_in{k}": np.asarray(task.arrays[name]) for k, name in enumerate(inputs)})
        arrays.update({f"t{i}_out{k}": answer.arrays[name] for k, name in enumerate(outputs)})
        header = {k: v for k, v in answer.header.items() if k != "task"}
        records.append({"check": check, "function": task.function, "probe": task.probe,
                        "params": _canonical(task.params), "inputs": inputs, "outputs": outputs,
                        "header": header})
    stem = root / _file_stem(exercise, seed)
    stem.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(stem.with_suffix(".npz"), **arrays)
    stem.with_suffix(".json").write_text(json.dumps({"format": FORMAT, "exercise": exercise, "seed": seed,
                                                     "tasks": records}, indent=1), encoding="utf-8")


def write_manifest(root: Path, seeds: Sequence[int], exercises: dict[int, dict[str, Any]]) -> None:
    """The store's table of contents: its public seeds and, per exercise, its checks."""
    data = {"format": FORMAT, "seeds": list(seeds), "exercises": {str(n): v for n, v in exercises.items()}}
    (root / MANIFEST).write_text(json.dumps(data, indent=1), encoding="utf-8")


def _read_records(root: Path, exercise: int, seed: int) -> list[Record]:
    stem = root / _file_stem(exercise, seed)
    try:
        meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as exc:
        raise GraderBug(f"the precomputed answers for exercise {exercise}, seed {seed} cannot be read ({exc})") from None
    records = []
    for i, rec in enumerate(meta["tasks"]):
        inputs = {name: arrays[f"t{i}_in{k}"] for k, name in enumerate(rec["inputs"])}
        outputs = {name: arrays[f"t{i}_out{k}"] for k, name in enumerate(rec["outputs"])}
        records.append(Record(rec["check"], rec["function"], rec["probe"], rec["params"], inputs,
                              wire.Message(dict(rec["header"]), outputs)))
    return records


def _same_inputs(task: Task, record: Record) -> bool:
    if (task.function, task.probe) != (record.function, record.probe):
        return False
    if _canonical(task.params) != record.params or set(task.arrays) != set(record.inputs):
        return False
    for name, have in task.arrays.items():
        want = record.inputs[name]
        have = np.asarray(have)
        if have.dtype != want.dtype or have.shape != want.shape or have.tobytes() != want.tobytes():
            return False
    return True


@dataclass(frozen=True)
class Store:
    """A folder of precomputed answers (see the module docstring)."""

    root: Path
    seeds: tuple[int, ...]
    exercises: dict[str, Any]

    @classmethod
    def open(cls, root: Path) -> "Store":
        try:
            data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GraderBug(f"no readable answer store in {root} ({exc})") from None
        if data.get("format") != FORMAT:
            raise GraderBug(f"the answer store in {root} has format {data.get('format')}, expected {FORMAT}")
        return cls(root, tuple(int(s) for s in data["seeds"]), dict(data["exercises"]))

    def random_seed(self) -> int:
        """One of the public seeds, at random."""
        return secrets.choice(self.seeds)

    def check_seed(self, seed: int) -> None:
        """UsageError unless `seed` is one of the public seeds."""
        if seed not in self.seeds:
            raise UsageError(f"seed {seed} is not one of this installation's public seeds "
                             f"({', '.join(map(str, self.seeds))}); pick one of them, or leave out --seed")

    def expected(self, exercise: int, seed: int, checks: Sequence[str], tasks: Sequence[Task]) -> dict[int, wire.Message]:
        """The reference's answer to each of `tasks` (the public tasks planned from `seed`).

        `checks[i]` names the check of `tasks[i]`. A store made from other inputs (other
        check declarations, or a numpy whose random streams differ) is the grader's bug.
        """
        self.check_seed(seed)
        if str(exercise) not in self.exercises:
            raise UsageError(f"exercise {exercise} is not in this installation's precomputed answers")
        records = _read_records(self.root, exercise, seed)
        if len(records) != len(tasks):
            raise GraderBug(f"the precomputed answers for exercise {exercise} hold {len(records)} tasks, "
                            f"the checks make {len(tasks)}: rebuild the bundle")
        out = {}
        for check, task, record in zip(checks, tasks, records):
            if check != record.check or not _same_inputs(task, record):
                raise GraderBug(f"the precomputed answers for `{check}` (exercise {exercise}, seed {seed}) were "
                                "made from other inputs than the checks make here: rebuild the bundle")
            out[task.id] = wire.Message({**record.answer.header, "task": task.id}, dict(record.answer.arrays))
        return out


def installed() -> Store | None:
    """The store this installation grades with: $GRADER_ANSWERS, else the bundled package, else None."""
    folder = os.environ.get(ENV)
    if folder:
        return Store.open(Path(folder))
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        return None  # no such package (a folder of that name without __init__.py does not count)
    root = Path(list(spec.submodule_search_locations)[0])
    return Store.open(root) if (root / MANIFEST).is_file() else None

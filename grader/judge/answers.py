"""Precomputed expected answers: the student bundle's answer key, as data.

For each exercise and each public seed, a store holds the inputs of every public task and
the reference's answer to it: `exerciseN/seed-S.json` (task list, probe params, a SHA-256
digest of the input arrays, answer headers) beside `exerciseN/seed-S.npz` (the answer arrays,
compressed, read with ``allow_pickle=False``). No reference source is needed to read it, and
nothing is pickled. The inputs themselves are not stored: the judge remakes them from the
seed. A check whose verdict never reads the expected arrays (`reads_arrays`) gets only the
header of its answer.

The judge plans the tasks from the seed as usual, then asks the store for the expected
answers: the store checks that the planned inputs are exactly those the answers were
computed from (same check, function, probe, params and array digest) and returns the same
`wire.Message`s the reference worker would have sent (without the arrays no verdict reads). Hidden checks have no stored answers:
they run at submission, with the reference, on fresh inputs.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import secrets
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from grader.protocol import wire
from grader.errors import GraderBug, UsageError
from grader.protocol.jobs import Task

FORMAT = 2  # 2: inputs stored as a SHA-256 digest; answers of checks that never read arrays keep only headers
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
    inputs: tuple[str, ...]  # the input arrays' names
    digest: str  # input_digest of the input arrays
    answer: wire.Message


def _canonical(value: Any) -> Any:
    """Params as JSON sees them (tuples become lists), for comparison with stored ones."""
    return json.loads(json.dumps(value, default=wire._json_default))


def input_digest(arrays: dict[str, Any]) -> str:
    """SHA-256 of a task's input arrays: names, dtypes, shapes and bytes (the judge remakes the inputs)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(np.asarray(arrays[name]))
        head = json.dumps([name, a.dtype.str, list(a.shape)]).encode()
        h.update(len(head).to_bytes(8, "little") + head + a.nbytes.to_bytes(8, "little"))
        h.update(a.tobytes())
    return h.hexdigest()


def reads_arrays(verdict: Callable[..., Any]) -> bool:
    """Whether a check's verdict(case, expected, got) may read `expected.arrays`.

    Read from the source (ast): True when `expected` is used other than as `expected.header`
    or as an argument to a function of the checks' own modules that itself does not read them
    (followed recursively). Anything unclear counts as reading: then the arrays are stored.
    """
    return _reads(verdict, 1, set())


def _reads(fn: Any, position: int, seen: set[tuple[int, int]]) -> bool:
    while isinstance(fn, functools.partial):
        position += len(fn.args)
        fn = fn.func
    if not inspect.isfunction(fn):
        return True
    if (id(fn), position) in seen:
        return False
    seen.add((id(fn), position))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return True
    node = tree.body[0]
    params = [a.arg for a in node.args.posonlyargs + node.args.args] if isinstance(node, ast.FunctionDef) else []
    if position >= len(params):
        return True
    name = params[position]
    parents = {id(c): n for n in ast.walk(node) for c in ast.iter_child_nodes(n)}
    for use in ast.walk(node):
        if not (isinstance(use, ast.Name) and use.id == name) or use is node:
            continue
        parent = parents.get(id(use))
        if isinstance(parent, ast.Attribute) and parent.attr == "header":
            continue
        if isinstance(parent, ast.Call) and use in parent.args and isinstance(parent.func, ast.Name):
            callee = fn.__globals__.get(parent.func.id)
            if callee is not None and not _reads(callee, parent.args.index(use), seen):
                continue
        return True
    return False


def _file_stem(exercise: int, seed: int) -> str:
    return f"exercise{exercise}/seed-{seed}"


def write(root: Path, exercise: int, seed: int, checks: Sequence[str], tasks: Sequence[Task],
          expected: dict[int, wire.Message], keep: Sequence[bool] | None = None) -> None:
    """Store the public `tasks` of one exercise and seed with the reference's answers.

    `checks[i]` is the test name of the check that `tasks[i]` belongs to; `keep[i]` False
    (see `reads_arrays`) stores only the header of its answer (default: keep every array).
    """
    arrays: dict[str, np.ndarray] = {}
    records = []
    for i, (check, task) in enumerate(zip(checks, tasks, strict=True)):
        answer = expected[task.id]
        inputs = list(task.arrays)
        outputs = list(answer.arrays) if keep is None or keep[i] else []
        arrays.update({f"t{i}_out{k}": answer.arrays[name] for k, name in enumerate(outputs)})
        header = {k: v for k, v in answer.header.items() if k != "task"}
        records.append({"check": check, "function": task.function, "probe": task.probe,
                        "params": _canonical(task.params), "inputs": inputs,
                        "digest": input_digest(task.arrays), "outputs": outputs, "header": header})
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
        outputs = {name: arrays[f"t{i}_out{k}"] for k, name in enumerate(rec["outputs"])}
        records.append(Record(rec["check"], rec["function"], rec["probe"], rec["params"], tuple(rec["inputs"]),
                              str(rec["digest"]), wire.Message(dict(rec["header"]), outputs)))
    return records


def _same_inputs(task: Task, record: Record) -> bool:
    if (task.function, task.probe) != (record.function, record.probe):
        return False
    if _canonical(task.params) != record.params or set(task.arrays) != set(record.inputs):
        return False
    return input_digest(task.arrays) == record.digest


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

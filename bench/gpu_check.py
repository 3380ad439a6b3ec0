"""The steps of `bench/gpu_check.sh` (see docs/GPU.md): each writes one JSON of figures.

    python bench/gpu_check.py env      OUT.json
    python bench/gpu_check.py singles  DEVICE WORK OUT.json [--jobs 3]
    python bench/gpu_check.py class    DEVICE WORK OUT.json [--jobs 4]
    python bench/gpu_check.py time     WORK OUT.json [--rounds 3] [--cpu-only]
    python bench/gpu_check.py junit    XML OUT.json
    python bench/gpu_check.py summary  STEPS.tsv WORK OUT.json

DEVICE is `cuda`, or `cpu` for the dry run (GPU_CHECK_FORCE_CPU=1), which exercises every
step on the CPU. Every step rewrites its JSON after each item, so a step stopped by its
`timeout` still leaves what it measured. Expected verdicts come from tests/test_cuda.py.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SUBS = TESTS / "submissions"
SEED = int(os.environ.get("GPU_CHECK_SEED", "7"))
GRADE_TIMEOUT = 150  # seconds for one `python -m grader FILE` (exercise 6 trains twice)


def write(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


def say(text: str) -> None:
    print(text, flush=True)


def expectations() -> Any:
    """tests/test_cuda.py: the one home of what each CUDA-only bug should lose."""
    sys.path[:0] = [str(TESTS), str(ROOT)]
    import test_cuda  # noqa: PLC0415 - imports torch and the grader

    return test_cuda


# --------------------------------------------------------------------------- env


def step_env(out: Path) -> None:
    import torch

    figures: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                               "cpus": os.cpu_count(), "torch": torch.__version__,
                               "torch_cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        figures.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                       capability=f"{props.major}.{props.minor}", gpus=torch.cuda.device_count(),
                       tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    smi = shutil.which("nvidia-smi")
    if smi:
        proc = subprocess.run([smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
        figures["nvidia_smi"] = proc.stdout.strip()[:500]
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    figures["commit"] = commit.stdout.strip() or None
    write(out, figures)
    say(json.dumps(figures, sort_keys=True))


# --------------------------------------------------------------------------- one file at a time


def grade_cli(path: Path, device: str, json_out: Path, seed: int = SEED) -> dict[str, Any]:
    """`python -m grader FILE --device D --json OUT` in a fresh process: exit code, wall time, verdicts."""
    cmd = [sys.executable, "-m", "grader", str(path), "--device", device, "--seed", str(seed), "--json", str(json_out)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=GRADE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"exit": None, "wall_s": round(time.perf_counter() - t, 2), "error": f"timed out ({GRADE_TIMEOUT} s)"}
    row: dict[str, Any] = {"exit": proc.returncode, "wall_s": round(time.perf_counter() - t, 2)}
    try:
        data = json.loads(json_out.read_text())
    except (OSError, ValueError) as exc:
        row["error"] = f"no results JSON: {exc}; stderr: {proc.stderr[-500:]}"
        return row
    row.update(score=data.get("score"), max_score=data.get("max_score"),
               failing=sorted(t["name"] for t in data.get("tests", []) if t.get("status") != "passed"),
               isolation=next((line.split(":", 1)[1].strip().split(", ") for line in proc.stdout.splitlines()
                               if line.startswith("isolation:")), []))
    if proc.returncode not in (0, 1):
        row["error"] = (data.get("output") or proc.stderr[-500:])[:500]
    return row


def singles_plan(device: str) -> list[tuple[str, Path, str, dict[str, Any]]]:
    """(label, file, --device, expectation): `fails` is the exact set, `includes` a subset,
    `gpu_hidden`/`gpu_seen` one of those chosen by whether the row's worker could see the GPU.
    What a bug loses depends on the machine (tests/test_cuda.py: CUDA_BUGS with CUDA, CPU_BUGS
    without) and, under --device cpu on a GPU machine, on the isolation (test_cuda.gpu_hidden)."""
    t = expectations()
    ref6, cuda = ROOT / "reference" / "exercise6.py", SUBS / "cuda"
    moves = {"train_epoch: moves each batch to the net's device", "evaluate: moves each batch to the net's device"}
    bugs = t.CUDA_BUGS if t.HAS_CUDA else t.CPU_BUGS
    plan = [
        ("reference6", ref6, device, {"fails": set()}),
        ("no_to_device", SUBS / "exercise6" / "no_to_device.py", device, {"fails": moves}),
        *[(name, cuda / f"{name}.py", device, {"fails": bugs[name]})
          for name in ("labels_not_moved", "evaluate_cpu_counter", "build_net_on_gpu", "build_net_cuda_call")],
        # Under --device cpu the worker sees the GPU only where the isolation does not hide it.
        ("relu_global_device@cpu", cuda / "relu_global_device.py", "cpu",
         {"gpu_hidden": {"fails": set()}, "gpu_seen": {"includes": {t.RELU_DEVICE}}} if t.HAS_CUDA else {"fails": set()}),
    ]
    if device == "cuda":
        plan += [("relu_global_device@cuda", cuda / "relu_global_device.py", "cuda", {"fails": bugs["relu_global_device"]}),
                 ("build_net_cuda_call@cpu", cuda / "build_net_cuda_call.py", "cpu", {"fails": bugs["build_net_cuda_call"]})]
    return plan


def verdict(row: dict[str, Any], expect: dict[str, Any]) -> bool:
    if "failing" not in row:
        return False
    failing = set(row["failing"])
    if "gpu_hidden" in expect:
        return verdict(row, expect["gpu_hidden" if expectations().gpu_hidden(row.get("isolation", [])) else "gpu_seen"])
    if "fails" in expect:
        return failing == expect["fails"]
    return expect["includes"] <= failing


def _plain(value: Any) -> Any:
    """An expectation as JSON (sets sorted)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return sorted(value) if isinstance(value, set) else value


def step_singles(device: str, work: Path, out: Path, jobs: int) -> None:
    """Each file in a fresh `python -m grader` process, `jobs` at a time (wall times are not
    timing figures: the `time` step is)."""
    (work / "singles").mkdir(parents=True, exist_ok=True)
    rows: dict[str, Any] = {}

    def one(item: tuple[str, Path, str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        label, path, dev, expect = item
        row = grade_cli(path, dev, work / "singles" / f"{label.replace('@', '_')}.json")
        row.update(file=str(path.relative_to(ROOT)), device=dev, expected=_plain(expect),
                   as_expected=verdict(row, expect))
        return label, row

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for future in as_completed([pool.submit(one, item) for item in singles_plan(device)]):
            label, row = future.result()
            rows[label] = row
            write(out, rows)
            say(f"  {label:26} {row['device']:4} exit {row['exit']}  {row.get('score')}/{row.get('max_score')}  "
                f"{row['wall_s']:6.1f} s  as expected: {row['as_expected']}  failing: {row.get('failing')}")


# --------------------------------------------------------------------------- a small class


def class_roster() -> dict[str, tuple[Path, str]]:
    """student -> (source, what it should get): `full`, `less` (some check fails), `zero`, or
    `less-with-cuda` (less on a machine with CUDA, full without: the bug branches on
    torch.cuda.is_available())."""
    ex6, cuda = SUBS / "exercise6", SUBS / "cuda"
    roster = {"s01": (ROOT / "reference" / "exercise6.py", "full"), "s02": (ROOT / "exercises" / "exercise6.py", "zero"),
              "s03": (ex6 / "no_to_device.py", "less"), "s04": (cuda / "labels_not_moved.py", "less"),
              "s05": (cuda / "evaluate_cpu_counter.py", "less"), "s06": (cuda / "build_net_on_gpu.py", "less-with-cuda"),
              "s07": (ROOT / "reference" / "exercise4.py", "full"), "s08": (cuda / "relu_global_device.py", "less-with-cuda"),
              "s09": (cuda / "build_net_cuda_call.py", "less")}
    for i, path in enumerate([*sorted(ex6.glob("correct_*.py")), *sorted(cuda.glob("correct_*.py"))]):
        roster[f"s{10 + i:02d}"] = (path, "full")
    return roster


def step_class(device: str, work: Path, out: Path, jobs: int) -> None:
    klass, book = work / "class", work / "batch"
    shutil.rmtree(klass, ignore_errors=True)
    roster = class_roster()
    for student, (src, _) in roster.items():
        number = "4" if "exercise: 4" in src.read_text()[:200] else "6"
        (klass / student).mkdir(parents=True)
        shutil.copy(src, klass / student / f"exercise{number}.py")
    cmd = [sys.executable, "-m", "grader", "batch", str(klass), "--out", str(book), "--device", device,
           "--jobs", str(jobs), "--seed", str(SEED)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    figures: dict[str, Any] = {"exit": proc.returncode, "wall_s": round(time.perf_counter() - t, 2), "jobs": jobs,
                               "submissions": len(roster), "device": device, "stderr_tail": proc.stderr[-800:]}
    rows = {}
    try:
        with open(book / "gradebook.csv", newline="") as f:
            rows = {r["student"]: r for r in csv.DictReader(f)}
    except OSError as exc:
        figures["error"] = f"no gradebook: {exc}"
    checked = {}
    cuda_here = expectations().HAS_CUDA
    for student, (src, want) in roster.items():
        r = rows.get(student)
        if want == "less-with-cuda":
            want = "less" if cuda_here else "full"
        got = None if r is None else (float(r["score"]), float(r["max_score"]))
        ok = got is not None and {"full": got[0] == got[1], "less": 0 < got[0] < got[1], "zero": got[0] == 0}[want]
        checked[student] = {"file": str(src.relative_to(ROOT)), "want": want, "score": got, "as_expected": ok}
    figures["students"] = checked
    figures["all_as_expected"] = bool(rows) and all(v["as_expected"] for v in checked.values())
    write(out, figures)
    say(f"  batch of {len(roster)} --jobs {jobs} --device {device}: exit {proc.returncode}, "
        f"{figures['wall_s']:.1f} s, all as expected: {figures['all_as_expected']}")


# --------------------------------------------------------------------------- timing


def step_time(work: Path, out: Path, rounds: int, cpu_only: bool) -> None:
    """A correct exercise 6 graded in this process, CPU and CUDA interleaved, a fresh seed
    each time (so the reference is recomputed): whole grading, and the student's full run."""
    sys.path.insert(0, str(ROOT))
    from grader.judge import grade as judge
    from grader.intake import load
    from grader.sandbox import run as sandbox

    sandbox.warm_up()
    devices = ["cpu"] if cpu_only else ["cpu", "cuda"]
    path = ROOT / "reference" / "exercise6.py"
    runs: dict[str, list[dict[str, Any]]] = {d: [] for d in devices}
    figures: dict[str, Any] = {"file": str(path.relative_to(ROOT)), "rounds": rounds, "runs": runs}
    judge.grade(load.read_submission(path), judge.Options(seed=SEED + 999, device=devices[-1]))  # warm-up, untimed
    for r in range(rounds):
        for i, device in enumerate(devices if r % 2 == 0 else devices[::-1]):
            seed = SEED + 1000 + 2 * r + i
            t = time.perf_counter()
            result = judge.grade(load.read_submission(path), judge.Options(seed=seed, device=device))
            wall = time.perf_counter() - t
            run = result.extras.get("full_run", {})
            runs[device].append({"seed": seed, "grade_s": round(wall, 3), "passed": result.passed,
                                 "full_run_student_s": run.get("seconds", {}).get("student"),
                                 "full_run_reference_cpu_s": run.get("seconds", {}).get("reference"),
                                 "weight_distance": run.get("weight_distance"),
                                 "accuracy": run.get("accuracy")})
            figures["median"] = {d: {k: statistics.median(x[k] for x in v if x[k] is not None)
                                     for k in ("grade_s", "full_run_student_s") if any(x[k] is not None for x in v)}
                                 for d, v in runs.items() if v}
            write(out, figures)
            say(f"  round {r} {device:4}: grade {wall:.2f} s, the student's full run "
                f"{run.get('seconds', {}).get('student')} s, distance {run.get('weight_distance')}")


# --------------------------------------------------------------------------- pytest's report and the summary


def step_junit(xml: Path, out: Path) -> None:
    figures: dict[str, Any] = {"passed": [], "failed": [], "skipped": [], "xfailed": []}
    try:
        root = ET.parse(xml).getroot()
    except (OSError, ET.ParseError) as exc:
        write(out, {"error": f"no junit report: {exc}"})
        return
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        kinds = {child.tag for child in case}
        skipped = case.find("skipped")
        if "failure" in kinds or "error" in kinds:
            figures["failed"].append(name)
        elif skipped is not None and "xfail" in (skipped.get("type", "") + skipped.get("message", "")):
            figures["xfailed"].append(name)
        elif skipped is not None:
            figures["skipped"].append(name)
        else:
            figures["passed"].append(name)
    figures["counts"] = {k: len(v) for k, v in figures.items() if isinstance(v, list)}
    write(out, figures)
    say(f"  pytest -m cuda: {figures['counts']}")


def step_summary(steps: Path, work: Path, out: Path) -> None:
    """figures.json: every step's status and figures, in one file."""
    summary: dict[str, Any] = {"steps": {}}
    for line in steps.read_text().splitlines() if steps.exists() else []:
        name, status, seconds = (line.split("\t") + ["", ""])[:3]
        summary["steps"][name] = {"status": status, "seconds": float(seconds) if seconds else None}
    for part in sorted(work.glob("fig_*.json")):
        try:
            summary[part.stem[4:]] = json.loads(part.read_text())
        except ValueError:
            summary[part.stem[4:]] = {"error": "unreadable"}
    summary.update({k: v for k, v in json.loads(os.environ.get("GPU_CHECK_FACTS", "{}")).items()})
    write(out, summary)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="step", required=True)
    sub.add_parser("env").add_argument("out", type=Path)
    for name in ("singles", "class"):
        s = sub.add_parser(name)
        s.add_argument("device", choices=("cpu", "cuda"))
        s.add_argument("work", type=Path)
        s.add_argument("out", type=Path)
        s.add_argument("--jobs", type=int, default=4 if name == "class" else 3)
    s = sub.add_parser("time")
    s.add_argument("work", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--cpu-only", action="store_true")
    s = sub.add_parser("junit")
    s.add_argument("xml", type=Path)
    s.add_argument("out", type=Path)
    s = sub.add_parser("summary")
    s.add_argument("steps", type=Path)
    s.add_argument("work", type=Path)
    s.add_argument("out", type=Path)
    a = p.parse_args(argv)
    if a.step == "env":
        step_env(a.out)
    elif a.step == "singles":
        step_singles(a.device, a.work, a.out, a.jobs)
    elif a.step == "class":
        step_class(a.device, a.work, a.out, a.jobs)
    elif a.step == "time":
        step_time(a.work, a.out, a.rounds, a.cpu_only)
    elif a.step == "junit":
        step_junit(a.xml, a.out)
    else:
        step_summary(a.steps, a.work, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

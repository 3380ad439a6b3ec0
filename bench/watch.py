"""Re-grade latency of `grade --watch` (save -> report) against a cold `grade`, interleaved.

For each exercise, one `grade --watch` runs for the whole bench on a copy of the solution;
each round saves a change to that copy and times until the new results.json is written, then
times a cold `grade` of the same file with the same seed. Prints medians and the ratio.

    python bench/watch.py [--rounds 5] [--exercises 1 2 3 4 5] [--notebooks 1]

--notebooks also times notebooks made from those solutions (one code cell per top-level
statement); each round rewrites the notebook with a comment added to its last cell.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
SEED = "1"


def _results(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _wait_written(path: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while _results(path) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"no results at {path} after {timeout:g} s")
        time.sleep(0.005)


def cold(file: Path, out: Path) -> float:
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", str(file), "--seed", SEED, "--device", "cpu",
                           "--json", str(out)], cwd=file.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1) or _results(out) is None:  # 1 is also Python's own failure to start
        raise SystemExit(f"grade exited {proc.returncode} without results: {proc.stderr.decode()[-400:]}")
    return elapsed


def save_change(file: Path, k: int) -> None:
    """What an editor's save does to the file: a .py gets a line appended, a notebook is written
    again with a comment at the end of its last code cell."""
    if file.suffix == ".py":
        with open(file, "a") as handle:
            handle.write(f"# save {k}\n")
        return
    nb = json.loads(file.read_text())
    cell = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = source + f"\n# save {k}"
    file.write_text(json.dumps(nb, indent=1))


def subject(folder: Path, n: int, notebook: bool) -> Path:
    solution = ROOT / f"exercises/solutions/exercise{n}.py"
    if notebook:
        from nbconvert_helpers import write_notebook

        return write_notebook(solution, folder / f"exercise{n}.ipynb")
    file = folder / f"exercise{n}.py"
    file.write_text(solution.read_text())
    return file


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--exercises", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    ap.add_argument("--notebooks", type=int, nargs="*", default=[])
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        for n, notebook in [(n, False) for n in args.exercises] + [(n, True) for n in args.notebooks]:
            folder = Path(tmp) / f"e{n}{'nb' if notebook else ''}"
            folder.mkdir()
            file = subject(folder, n, notebook)
            out, cold_out = folder / "watch.json", folder / "cold.json"
            proc = subprocess.Popen([sys.executable, "-m", "grader", "--watch", str(file), "--seed", SEED,
                                     "--device", "cpu", "--json", str(out)], cwd=folder, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _wait_written(out)  # the first grade (cold, inside the watcher): not counted
                warm_times, cold_times = [], []
                for k in range(args.rounds):
                    out.unlink()
                    t = time.perf_counter()
                    save_change(file, k)
                    _wait_written(out)
                    warm_times.append(time.perf_counter() - t)
                    cold_times.append(cold(file, cold_out))
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)
            w, c = statistics.median(warm_times), statistics.median(cold_times)
            rows.append((n, w, c))
            print(f"{file.name}: watch re-grade {w * 1000:.0f} ms, cold grade {c:.2f} s, ratio {w / c:.3f} "
                  f"({args.rounds} rounds, medians)", flush=True)
    print("re-grade latency includes the watcher's wake-up: inotify, then QUIET_SECONDS without "
          "events (grader/cli/watch.py; without inotify, polling: up to POLL_SECONDS + SETTLE_SECONDS)")


if __name__ == "__main__":
    main()

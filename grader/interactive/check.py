"""`grader.check(PATH=None)`: grade a notebook or a .py file by running `grade` as a subprocess."""
from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.interactive import locate, session

# The student bundle's `grade` (a public seed by default); the full package's behaves the same.
ENTRY = "import sys; from grader.cli.student import main; sys.exit(main())"
WORKER_MODULE = "grader.worker.student"  # runs the submission's code in a grading worker


@dataclass(frozen=True)
class Graded:
    """What `grade` wrote: the exit status, the text report, the HTML report and results.json."""

    path: Path
    status: int
    text: str
    html: str = ""
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float | None:
        value = self.results.get("score")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def max_score(self) -> float | None:
        value = self.results.get("max_score")
        return float(value) if isinstance(value, (int, float)) else None


class Report:
    """Shows a `Graded` inline: HTML in Jupyter (in a sandboxed iframe), text elsewhere. Shown once."""

    def __init__(self, graded: Graded) -> None:
        self.graded = graded
        self.shown = False

    @property
    def score(self) -> float | None:
        return self.graded.score

    @property
    def max_score(self) -> float | None:
        return self.graded.max_score

    def __repr__(self) -> str:
        return self.graded.text

    def _repr_html_(self) -> str:
        if not self.graded.html:
            return f"<pre>{html.escape(self.graded.text)}</pre>"
        # srcdoc keeps the report's styles to itself; sandbox="" runs no script in it
        return (f'<iframe sandbox="" style="width:100%;height:600px;border:1px solid #ddd" '
                f'title="grader report" srcdoc="{html.escape(self.graded.html, quote=True)}"></iframe>')

    def _ipython_display_(self) -> None:
        if self.shown:
            return
        self.shown = True
        from IPython.display import HTML, display

        display(HTML(self._repr_html_()), metadata={"grader": {"score": self.score, "max_score": self.max_score}})

    def show(self) -> None:
        """HTML inline in a Jupyter kernel, the text report elsewhere."""
        if locate.in_kernel():
            self._ipython_display_()
        else:
            self.shown = True
            print(self.graded.text, end="" if self.graded.text.endswith("\n") else "\n")


def grade(path: Path, *, seed: int | None = None, timeout: float | None = None, warm: bool = False) -> Graded:
    """Run `grade PATH` and read what it wrote: in a fresh process (cwd: an empty folder), or with
    `warm` on the kernel's kept server (`session`), which grades the same way."""
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        out = Path(tmp)
        args = [str(path.resolve()), "--report", f"html={out / 'report.html'}", "--json", str(out / "results.json")]
        args += ["--seed", str(seed)] if seed is not None else []
        args += ["--timeout", str(timeout)] if timeout is not None else []
        env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR")}
        done = session.answer(args, env, timeout) if warm else None
        if done is None:
            proc = subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, errors="replace")
            done = session.Answer(proc.returncode, proc.stdout, proc.stderr)
        text = done.stdout if done.status in (0, 1) else (done.stderr.strip() or done.stdout)
        report = out / "report.html"
        results = out / "results.json"
        return Graded(path, done.status, text,
                      report.read_text(encoding="utf-8") if report.is_file() else "",
                      _json(results))


def warm_default(ip: Any = None) -> bool:
    """Whether `check` keeps a warm server: in a Jupyter kernel on a POSIX system (its pipes
    are waited on with select), unless GRADER_CHECK_WARM=0."""
    return os.name == "posix" and locate.in_kernel(ip) and os.environ.get("GRADER_CHECK_WARM", "1") != "0"


def _in_grading_worker() -> bool:
    """True when called by a submission that a grading worker is running (its loader is on the stack)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == WORKER_MODULE:
            return True
        frame = frame.f_back
    return False


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check(path: str | os.PathLike[str] | None = None, *, seed: int | None = None,
          timeout: float | None = None, show: bool = True, warm: bool | None = None) -> Report | None:
    """Grade `path` (default: the notebook this kernel runs) and show the report.

    `warm` (default: in a Jupyter kernel) keeps one grading server for the kernel's life: the
    first check starts it, later ones take tens of milliseconds instead of a torch import.

    Returns the Report (its `score` and `max_score`), or None when nothing was graded (the
    notebook could not be found, or was not saved: a line says so)."""
    if _in_grading_worker():  # this cell is being graded: never grade from inside a worker
        return None
    ip = locate.shell()
    try:
        if path is None:
            target = locate.notebook_path(ip)
            fresh = locate.freshness(target, ip)
            if not fresh.saved:
                raise locate.NotFound(f"grader.check(): save the notebook first: {target.name} on disk (saved at "
                                      f"{locate.mtime(target)}) does not hold the cell you last ran "
                                      f"({fresh.missing!r}); save it (or run that cell again) and call "
                                      "grader.check() again")
        else:
            target = Path(path).expanduser()
    except locate.NotFound as exc:
        print(exc)
        return None
    report = Report(grade(target, seed=seed, timeout=timeout, warm=warm_default(ip) if warm is None else warm))
    if show:
        report.show()
    return report

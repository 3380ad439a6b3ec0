"""A realistic class through a whole term (issue 15): about 60 students, mixed correct, buggy,
late, missing, duplicated and hostile submissions, a Canvas download, GitHub Classroom
repositories, a roster and a late policy; a real SQLite gradebook; a SIGKILL mid-batch."""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS
from grader.batch import export, gradebook, overrides
from grader.batch import run as batch
from grader.intake import lms
from test_term import make_repo

pytestmark = pytest.mark.slow

SEED = 11
T1 = dt.datetime(2026, 9, 15, 23, 59, tzinfo=dt.timezone.utc).timestamp()  # exercise 1 due
T2 = dt.datetime(2026, 9, 22, 23, 59, tzinfo=dt.timezone.utc).timestamp()  # exercise 2 due
DAY = 86400.0
COURSE = """
[deadlines]
exercise1 = 2026-09-15T23:59:00Z
exercise2 = 2026-09-22T23:59:00Z
[penalty]
per_day = 0.10
cap = 0.50
cutoff_days = 10
[extensions.s03]
exercise1 = 3
"""
HOSTILE = ("eq_always_true", "fake_score_stdout", "patch_allclose", "sys_exit_import", "os_exit_in_function",
           "forged_results")
OK1 = [ROOT / "reference/exercise1.py", *sorted(SUBMISSIONS.glob("exercise1/ok_*.py"))]
BUG1 = sorted(SUBMISSIONS.glob("exercise1/bug_*.py"))
EX2 = [ROOT / "reference/exercise2.py", *sorted(SUBMISSIONS.glob("exercise2/*.py"))]


@dataclass
class Class:
    root: Path
    roster: Path
    expected: dict[tuple[str, int], str] = field(default_factory=dict)  # (student, exercise) -> source name
    late_days: dict[tuple[str, int], int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    strangers: list[str] = field(default_factory=list)
    hostile: dict[str, int] = field(default_factory=dict)  # student -> expected raw score
    canvas: dict[str, str] = field(default_factory=dict)  # Canvas user id -> roster student


def _put(src: Path, dest: Path, when: float) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dest)
    os.utime(dest, (when, when))


def make_term_class(base: Path) -> Class:
    root = base / "class"
    root.mkdir(parents=True)
    (root / "course.toml").write_text(COURSE)
    c = Class(root, base / "roster.csv")
    people: list[tuple[str, str, str]] = []  # (student, email, lms_id)
    for i in range(26):  # plain folders: correct and buggy, some late by their file time
        s = f"s{i:02d}"
        src = (OK1 + BUG1)[i % len(OK1 + BUG1)]
        days = (0, 0, 0, 1, 2, 0, 0, 7, 0, 12)[i % 10]  # s03 is late by 1 day, within its extension
        _put(src, root / s / "exercise1.py", T1 - 3600 + days * DAY)
        c.expected[(s, 1)] = src.name
        c.late_days[(s, 1)] = 0 if s == "s03" else days
        if i % 3 == 0:
            src2 = EX2[i % len(EX2)]
            _put(src2, root / s / "exercise2.py", T2 - 60)
            c.expected[(s, 2)] = src2.name
            c.late_days[(s, 2)] = 0
        people.append((s, f"{s}@uni.example", ""))
    for i, case in enumerate(HOSTILE):
        s = f"h{i:02d}"
        src = ROOT / "tests/hostile/cases" / f"{case}.py"
        _put(src, root / s / "exercise1.py", T1 - DAY)
        c.expected[(s, 1)] = src.name
        c.late_days[(s, 1)] = 0
        c.hostile[s] = int(re.search(r"^# expect: (\d+)", src.read_text(), re.M).group(1))
        people.append((s, f"{s}@uni.example", ""))
    for i in range(12):  # a Canvas download: flat files named by Canvas, some with its late marker
        s, uid = f"c{i:02d}", str(4000 + i)
        late = "_LATE" if i % 4 == 1 else ""
        src = (OK1 + BUG1)[(i * 5) % len(OK1 + BUG1)]
        _put(src, root / f"student{i:02d}{late}_{uid}_{9000 + i}_exercise1.py", T1 - 600)
        c.expected[(s, 1)] = src.name
        c.late_days[(s, 1)] = 1 if late else 0
        c.canvas[uid] = s
        people.append((s, f"{s}@uni.example", uid))
    for i, (day, when) in enumerate((("ok", "2026-09-20T10:00:00+00:00"), ("late", "2026-09-24T10:00:00+00:00"),
                                     ("ok", "2026-09-22T23:00:00+00:00"))):
        s = f"g{i:02d}"  # GitHub Classroom: exercise2-<user>, the time of the last commit
        make_repo(root / f"exercise2-{s}", ROOT / "reference/exercise2.py", when)
        (root / f"exercise2-{s}" / "exercise1.py").rename(root / f"exercise2-{s}" / "exercise2.py")
        c.expected[(s, 2)] = "exercise2.py"
        c.late_days[(s, 2)] = 2 if day == "late" else 0
        people.append((s, f"{s}@uni.example", ""))
    base_bug = (SUBMISSIONS / "exercise1/bug_mean.py").read_text()
    renamed = re.sub(r"\by_hat\b", "prediction", base_bug).replace("#", "# copied:")
    for s, text in (("d01", base_bug), ("d02", renamed)):  # a copy with the names changed
        (root / s).mkdir()
        (root / s / "exercise1.py").write_text(text)
        os.utime(root / s / "exercise1.py", (T1 - DAY, T1 - DAY))
        c.expected[(s, 1)] = "bug_mean.py"
        c.late_days[(s, 1)] = 0
        people.append((s, f"{s}@uni.example", ""))
    for s in ("x01", "x02"):  # graded, but not on the roster
        _put(ROOT / "reference/exercise1.py", root / s / "exercise1.py", T1 - DAY)
        c.expected[(s, 1)] = "exercise1.py"
        c.late_days[(s, 1)] = 0
        c.strangers.append(s)
    c.missing = [f"m{i:02d}" for i in range(9)]
    people += [(s, f"{s}@uni.example", "") for s in c.missing]
    (root / "s00" / "notes.txt").write_text("not an exercise")
    with open(c.roster, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "name", "email", "lms_id", "section"])
        for s, email, uid in people:
            w.writerow([s, f"Student {s.upper()}", email, uid, "L1" if s < "m" else "L2"])
    return c


def _batch(c: Class, out: Path, *extra: str) -> int:
    return batch.main([str(c.root), "--out", str(out), "--roster", str(c.roster), "--seed", str(SEED), "--jobs", "2",
                       "--timeout", "60", *extra])


@pytest.fixture(scope="module")
def term(tmp_path_factory: pytest.TempPathFactory) -> tuple[Class, Path]:
    base = tmp_path_factory.mktemp("term")
    c = make_term_class(base)
    out = base / "out"
    _batch(c, out)
    return c, out


def _csv(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {(r["student"], r["exercise"]): r for r in csv.DictReader(fh)}


def test_every_roster_student_has_a_row_and_late_work_costs_what_the_policy_says(term: tuple[Class, Path]) -> None:
    c, out = term
    rows = _csv(out / "gradebook.csv")
    graded = {k: v for k, v in rows.items() if v["status"] != "missing"}
    assert {(s, int(e.removeprefix("exercise"))) for s, e in graded} == set(c.expected)
    assert len({s for s, _ in rows}) >= 60
    for s in c.missing:
        for ex in ("exercise1", "exercise2"):
            assert rows[(s, ex)]["status"] == "missing" and rows[(s, ex)]["score"] == "0"
    for (s, ex), days in c.late_days.items():
        r = rows[(s, f"exercise{ex}")]
        raw, final, penalty = float(r["raw_score"]), float(r["score"]), float(r["penalty"])
        assert int(r["late_days"]) == days, (s, ex)
        fraction = 1.0 if days > 10 else min(0.5, 0.1 * days)
        assert penalty == pytest.approx(raw * fraction) and final == pytest.approx(raw - penalty), (s, ex)
    for uid, s in c.canvas.items():
        r = rows[(s, "exercise1")]
        assert r["time_source"] == (lms.CANVAS_LATE if c.late_days[(s, 1)] else lms.MTIME)
    assert {rows[(f"g{i:02d}", "exercise2")]["time_source"] for i in range(3)} == {lms.GIT}
    assert rows[("g01", "exercise2")]["submitted_at"] == "2026-09-24T10:00:00Z"
    for s, score in c.hostile.items():
        assert float(rows[(s, "exercise1")]["raw_score"]) == score, s
    assert all(rows[(s, "exercise1")]["on_roster"] == "no" for s in c.strangers)
    assert rows[("s00", "exercise1")]["on_roster"] == "yes"
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("select count(*) from attempts").fetchone()[0] == len(c.expected)
        assert db.execute("select count(*) from results").fetchone()[0] == len(c.expected)


def test_the_class_summary_lists_what_an_instructor_acts_on(term: tuple[Class, Path]) -> None:
    c, out = term
    md = (out / "summary.md").read_text()
    for heading in ("## Missing", "## Late", "## Not on the roster", "## Similar submissions", "## Common wrong answers"):
        assert heading in md, heading
    assert re.search(r"\| 1 \| d01 and d02 \| 100% \| same normalised code \|", md)
    assert "median" in md and "minimum" in md and "maximum" in md
    assert re.search(r"- m03 exercise2: no submission", md) and "- x01 exercise1: graded, but not on the roster" in md
    assert re.search(r"\| 1 \| squared_loss: [^|]+ \| \d+% \(\d+ / \d+\) \| [^|]*broadcast", md)  # bug_broadcast's slip
    html = (out / "summary.html").read_text()
    links = set(re.findall(r'href="(reports/[^"]+)"', html))
    assert len(links) >= len(c.expected)
    assert all((out / link).is_file() for link in links)
    late = (out / "reports/s04/standing.txt").read_text()  # two days late by its file time: -20 %
    assert re.search(r"exercise1: [\d.]+ / 10 \(\w+; raw [\d.]+, 2 day\(s\) late: −[\d.]+; submitted 2026-09-17T", late)
    assert "exercise2: missing: 0 / 10" in (out / "reports/m00/standing.txt").read_text()


def test_exports_follow_the_canvas_and_moodle_layouts(term: tuple[Class, Path]) -> None:
    c, out = term
    rows = _csv(out / "gradebook.csv")
    assert export.main([str(out), "--format", "canvas", "--to", str(out / "canvas.csv")]) == 0
    with open(out / "canvas.csv", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "exercise1", "exercise2",
                        "Final Points"]
    assert table[1][0] == "Points Possible" and table[1][5:] == ["10", "10", "20"]
    by_name = {line[0]: line for line in table[2:]}
    assert len(by_name) == len({s for s, _ in rows})
    for uid, s in c.canvas.items():
        line = by_name[f"Student {s.upper()}"]
        assert line[1] == uid and float(line[5]) == float(rows[(s, "exercise1")]["score"])
    assert by_name["Student M00"][5:] == ["0", "0", "0"]
    assert export.main([str(out), "--format", "moodle", "--to", str(out / "moodle.csv")]) == 0
    with open(out / "moodle.csv", newline="") as fh:
        moodle = list(csv.DictReader(fh))
    assert list(moodle[0]) == ["Full name", "ID number", "Email address", "exercise1", "exercise2", "Course total"]
    s03 = next(r for r in moodle if r["Email address"] == "s03@uni.example")
    assert float(s03["Course total"]) == float(rows[("s03", "exercise1")]["score"]) + float(
        rows[("s03", "exercise2")]["score"])


def test_overrides_survive_a_forced_regrade_and_a_changed_score_is_flagged(term: tuple[Class, Path]) -> None:
    c, out = term
    assert overrides.main([str(out), "s01", "exercise1", "--score", "9", "--reason", "hand-checked",
                           "--by", "prof"]) == 0
    assert _csv(out / "gradebook.csv")[("s01", "exercise1")]["score"] == "9"
    assert _batch(c, out, "--force", "--only", "s01", "--only", "d01") in (0, 1)
    rows = _csv(out / "gradebook.csv")
    assert rows[("s01", "exercise1")]["score"] == "9" and "review" not in rows[("s01", "exercise1")]["override"]
    assert overrides.main([str(out), "d01", "1", "--score", "2", "--reason", "copied", "--by", "prof"]) == 0
    shutil.copy(ROOT / "reference/exercise1.py", c.root / "d01" / "exercise1.py")  # a new version, a new score
    _batch(c, out, "--only", "d01")
    rows = _csv(out / "gradebook.csv")
    assert rows[("d01", "exercise1")]["score"] == "2" and "(review)" in rows[("d01", "exercise1")]["override"]
    assert "Overrides to review" in (out / "summary.md").read_text()
    book = gradebook.Gradebook(out / "gradebook.sqlite")
    kinds = [a.kind for a in book.attempts("d01", 1)]
    s01 = [a.kind for a in book.attempts("s01", 1)]
    book.close()
    assert kinds == [gradebook.FIRST, gradebook.REGRADE, gradebook.NEW_VERSION] and s01 == [gradebook.FIRST,
                                                                                               gradebook.REGRADE]
    done = subprocess.run([sys.executable, "-m", "grader", "history", str(out), "d01", "exercise1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "new version" in done.stdout and "copied" in done.stdout


def test_sigkill_mid_batch_then_resume_loses_and_doubles_nothing(tmp_path: Path) -> None:
    c = make_term_class(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "batch", str(c.root), "--out", str(out), "--roster", str(c.roster),
           "--jobs", "1", "--seed", str(SEED)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def count() -> int:
        try:
            with sqlite3.connect(out / "gradebook.sqlite") as db:
                return db.execute("select count(*) from attempts").fetchone()[0]
        except sqlite3.Error:
            return 0

    deadline = time.time() + 300
    while time.time() < deadline and count() < 5:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = count()
    assert 5 <= before < len(c.expected)
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True).returncode in (0, 1)
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        results = db.execute("select count(*) from results").fetchone()[0]
        per = db.execute("select student, exercise, count(*) from attempts group by student, exercise").fetchall()
    assert results == len(c.expected) and len(per) == len(c.expected)
    assert all(n == 1 for _, _, n in per)  # nothing graded twice, nothing lost
    rows = _csv(out / "gradebook.csv")
    on_roster = {s for s, _ in rows} - set(c.strangers)
    graded_on_roster = [k for k in c.expected if k[0] in on_roster]
    assert sum(r["status"] == "missing" for r in rows.values()) == 2 * len(on_roster) - len(graded_on_roster)

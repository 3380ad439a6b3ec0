"""The term around grading (issue 15): roster, LMS intake, late policy, gradebook migration,
overrides and history, exports checked against the Canvas and Moodle layouts, similarity."""
from __future__ import annotations

import csv
import re
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS
from grader.batch import export, gradebook, history, overrides, policy, similarity
from grader.batch import run as batch
from grader.errors import UsageError
from grader.intake import discover, lms, roster

T0 = dt.datetime(2026, 9, 15, 23, 59, tzinfo=dt.timezone.utc).timestamp()
DAY = 86400.0

METADATA = """---
:submission_101:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@example.edu
  :created_at: 2026-09-15 23:30:00.000000000 -07:00
  :score: 10.0
  :results: {}
submission_102:
  :submitters:
  - :name: "Bob \\"B\\" Ross"
    :sid: 1002
    :email: bob@example.edu
  - :name: Cy
    :email: cy@example.edu
  :created_at: '2026-09-17 08:00:00 +00:00'
  :status: processed
"""


# ------------------------------------------------------------------ roster and intake

def test_roster_columns_aliases_and_bad_rosters() -> None:
    r = roster.parse("Student,Name,email,LMS_ID,section,extra\nalice,Alice A,a@x.edu,555,L1,?\nbob,,,,,\n\n")
    assert [s.student for s in r.students] == ["alice", "bob"]
    assert r.students[0] == roster.Student("alice", "Alice A", "a@x.edu", "555", "L1")
    assert r.resolve("555") == "alice" and r.resolve("A@X.edu") == "alice" and r.resolve("zed") == "zed"
    with pytest.raises(UsageError, match="no `student` column"):
        roster.parse("name,email\nA,a@x\n")
    with pytest.raises(UsageError, match="listed twice"):
        roster.parse("student\nalice\nalice\n")


def test_canvas_download_names() -> None:
    late = lms.canvas_name("lovelaceada_LATE_12345_67890_exercise3-1.py")
    assert late == lms.CanvasName("12345", True, "exercise3-1.py")
    assert lms.canvas_name("smithjo_late_7_8_exercise1.ipynb") == lms.CanvasName("7", True, "exercise1.ipynb")
    assert lms.canvas_name("smithjo_7_8_my_exercise1.py") == lms.CanvasName("7", False, "my_exercise1.py")
    assert lms.canvas_name("alice_exercise1.py") is None and lms.canvas_name("exercise1.py") is None


def test_gradescope_metadata_subset_parser_agrees_with_pyyaml() -> None:
    mine = lms.parse_yaml_subset(METADATA)
    assert mine["submission_102"]["submitters"][0] == {"name": 'Bob "B" Ross', "sid": "1002",
                                                       "email": "bob@example.edu"}
    assert mine["submission_101"]["results"] == {} and mine["submission_102"]["submitters"][1]["name"] == "Cy"
    yaml = pytest.importorskip("yaml")
    theirs = yaml.safe_load(METADATA)
    for key in ("submission_101", "submission_102"):
        t = theirs.get(key, theirs.get(":" + key))
        m = mine[key]
        assert lms.timestamp(t[":created_at"]) == lms.timestamp(m["created_at"])
        assert [str(s[":sid"]) if ":sid" in s else None for s in t[":submitters"]] == \
               [s.get("sid") for s in m["submitters"]]
    assert lms.timestamp("2026-09-15 23:30:00.000000000 -07:00") == T0 + 6 * 3600 + 31 * 60
    with pytest.raises(ValueError):
        lms.parse_yaml_subset("a:\n  b: 1\n c: 2\n")


def test_gradescope_export_maps_each_submitter_and_lists_the_rest(tmp_path: Path) -> None:
    (tmp_path / lms.METADATA).write_text(METADATA)
    for folder in ("submission_101", "submission_102", "submission_999"):
        (tmp_path / folder).mkdir()
        shutil.copy(ROOT / "reference/exercise1.py", tmp_path / folder / "exercise1.py")
    found = discover.discover(tmp_path)
    assert {(e.student, e.time_source) for e in found.entries} == {
        ("1001", lms.GRADESCOPE), ("1002", lms.GRADESCOPE), ("cy@example.edu", lms.GRADESCOPE)}
    ada = next(e for e in found.entries if e.student == "1001")
    assert ada.submitted_at == T0 + 6 * 3600 + 31 * 60
    assert [("submission_999" in str(s.path), "not mapped" in s.reason) for s in found.skipped] == [(True, True)]


def _git(repo: Path, *args: str, when: str = "2026-09-14T12:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": "s",
           "GIT_AUTHOR_EMAIL": "s@x", "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@x"}
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=repo, env=env, check=True,
                   capture_output=True)


def make_repo(repo: Path, source: Path, when: str) -> None:
    repo.mkdir(parents=True)
    shutil.copy(source, repo / "exercise1.py")
    _git(repo, "init", "-q")
    _git(repo, "add", "exercise1.py")
    _git(repo, "commit", "-q", "-m", "work", when=when)


def test_classroom_repositories_use_the_last_commit_without_the_repos_config(tmp_path: Path) -> None:
    root = tmp_path / "class"
    make_repo(root / "exercise1-alice", ROOT / "reference/exercise1.py", "2026-09-14T12:00:00+00:00")
    make_repo(root / "exercise1-bob", ROOT / "reference/exercise1.py", "2026-09-17T12:00:00+00:00")
    canary = tmp_path / "canary"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch {canary}\nexit 1\n")
    evil.chmod(0o755)
    with open(root / "exercise1-bob/.git/config", "a") as fh:  # what a hostile repository could carry
        fh.write(f"[log]\n\tshowSignature = true\n[gpg]\n\tprogram = {evil}\n[core]\n\tfsmonitor = {evil}\n"
                 f"\tpager = {evil}\n\thooksPath = {tmp_path}\n")
    found = discover.discover(root)
    times = {e.student: (e.submitted_at, e.time_source) for e in found.entries}
    assert times == {"alice": (dt.datetime(2026, 9, 14, 12, tzinfo=dt.timezone.utc).timestamp(), lms.GIT),
                     "bob": (dt.datetime(2026, 9, 17, 12, tzinfo=dt.timezone.utc).timestamp(), lms.GIT)}
    assert not canary.exists()
    outside = tmp_path / "outside"
    make_repo(outside, ROOT / "reference/exercise1.py", "2026-09-14T12:00:00+00:00")
    assert lms.commit_time(outside, root) is None  # never on a path outside the class folder
    (root / "linked").symlink_to(outside)
    assert lms.commit_time(root / "linked", root) is None


# ------------------------------------------------------------------ late policy

COURSE = """
[deadlines]
exercise1 = 2026-09-15T23:59:00Z
exercise2 = "2026-09-22T23:59:00+00:00"
[penalty]
per_day = 0.10
cap = 0.30
cutoff_days = 7
grace_minutes = 10
[extensions.alice]
exercise1 = 2
[extensions.eve]
all = 2026-09-30T00:00:00Z
"""


def test_late_policy_days_cap_cutoff_extensions_and_canvas_marker() -> None:
    p = policy.parse(COURSE)
    assert p.late("zed", 1, T0 - 5, False) == policy.Late(0, 0.0, False, T0)
    assert p.late("zed", 1, T0 + 5 * 60, False).days == 0  # within the grace period
    assert p.late("zed", 1, T0 + 3600, False) == policy.Late(1, 0.10, False, T0)
    assert p.late("zed", 1, T0 + 2.5 * DAY, False).fraction == pytest.approx(0.30)  # 3 days, capped at 30 %
    assert p.late("zed", 1, T0 + 5 * DAY, False).fraction == pytest.approx(0.30)
    assert p.late("zed", 1, T0 + 8 * DAY, False) == policy.Late(8, 1.0, True, T0)  # after the cut-off
    assert p.late("alice", 1, T0 + 1.5 * DAY, False).days == 0  # two days' extension
    assert p.late("eve", 1, T0 + 10 * DAY, False).days == 0 and p.late("eve", 2, T0 + 10 * DAY, False).days == 0
    assert p.late("zed", 1, T0 - DAY, True).days == 1  # Canvas says late: at least a day
    assert p.late("zed", 3, T0 + 100 * DAY, True) == policy.ON_TIME  # no deadline for exercise 3
    for bad, why in (("[deadlines]\nexercise1 = 3\n", "date-time"), ("[penalty]\nper_day = 2\n", "per_day"),
                     ("[deadlines]\nlab = 2026-01-01\n", "exercise names"), ("x = [", "not valid TOML")):
        with pytest.raises(UsageError, match=why):
            policy.parse(bad)


# ------------------------------------------------------------------ the gradebook

OLD_SCHEMA = """
create table results (student text not null, exercise integer not null, path text not null, key text not null,
    status text not null, score real not null, max_score real not null, result text not null,
    graded_at real not null, primary key (student, exercise));
create table meta (name text primary key, value text not null);
"""


def _row(student: str, exercise: int, score: float, *, at: float | None = T0, late: bool = False,
         digest: str = "h1", key: str = "k1") -> gradebook.Row:
    tests = [{"name": "squared_loss: matches", "score": min(score, 6.0), "max_score": 6.0,
              "status": "passed" if score >= 6 else "failed"},
             {"name": "squared_loss: numpy", "score": max(0.0, score - 6.0), "max_score": 4.0,
              "status": "passed" if score >= 10 else "failed"}]
    return gradebook.Row(student, exercise, f"{student}.py", key, "passed" if score == 10 else "failed", score,
                         10.0, {"score": score, "max_score": 10.0, "tests": tests}, 1.0, at, lms.MTIME, digest, late)


def test_a_gradebook_of_the_previous_version_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.execute("insert into results values ('amy', 1, 'amy.py', 'k', 'passed', 10, 10, '{\"tests\": []}', 1.0)")
    book = gradebook.Gradebook(path)
    assert [(r.student, r.score, r.submitted_at, r.time_source) for r in book.rows()] == [("amy", 10.0, None, "")]
    book.put(_row("amy", 1, 6.0, digest="h2", key="k2"), "9.9")
    assert [(a.kind, a.score, a.grader_version) for a in book.attempts("amy")] == [(gradebook.NEW_VERSION, 6.0, "9.9")]
    book.close()
    gradebook.Gradebook(path).close()  # opening twice migrates once


def _book(tmp_path: Path) -> gradebook.Gradebook:
    book = gradebook.Gradebook(tmp_path / "gradebook.sqlite")
    book.set_roster(roster.parse("student,name,email,lms_id,section\n"
                                 "amy,\"Doe, Amy\",amy@x.edu,11,L1\nbob,Bob,bob@x.edu,12,L2\n"
                                 "cy,Cy,,13,L1\n=cmd,Evil,=1+1@x.edu,14,@SUM(A1)\n").students)
    book.set_meta("policy", COURSE)
    book.put(_row("amy", 1, 10.0, at=T0 - 10), "1")
    book.put(_row("bob", 1, 10.0, at=T0 + 1.5 * DAY), "1")  # two days late: -20 %
    book.put(_row("cy", 1, 7.0, at=T0 + 30 * DAY), "1")  # after the cut-off
    book.put(_row("amy", 2, 6.0, at=T0), "1")
    book.put(_row("zed", 2, 10.0, at=T0), "1")  # not on the roster
    return book


def _read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_canvas_export_layout(tmp_path: Path) -> None:
    book = _book(tmp_path)
    export.write(tmp_path / "canvas.csv", export.rows(export.sheet(book), "canvas"))
    table = _read(tmp_path / "canvas.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "exercise1", "exercise2",
                        "Final Points"]
    assert table[1] == ["Points Possible", "", "", "", "", "10", "10", "20"]
    by = {line[1] or line[0]: line for line in table[2:]}
    assert by["11"] == ["Doe, Amy", "11", "", "", "L1", "10", "6", "16"]
    assert by["12"][5:] == ["8", "0", "8"]  # late 2 days (20 %), exercise 2 missing: 0
    assert by["13"][5:] == ["0", "0", "0"]  # after the cut-off
    assert by["zed"][5:] == ["0", "10", "10"]
    evil = by["14"]
    assert evil[0] == "Evil" and evil[4] == "'@SUM(A1)"
    assert all(not c.startswith(tuple("=+-@")) for line in table for c in line)
    book.close()


def test_moodle_and_plain_exports(tmp_path: Path) -> None:
    book = _book(tmp_path)
    s = export.sheet(book)
    export.write(tmp_path / "moodle.csv", export.rows(s, "moodle"))
    table = _read(tmp_path / "moodle.csv")
    assert table[0] == ["Full name", "ID number", "Email address", "exercise1", "exercise2", "Course total"]
    by = {line[1] or line[0]: line for line in table[1:]}
    assert by["11"] == ["Doe, Amy", "11", "amy@x.edu", "10", "6", "16"] and by["14"][2] == "'=1+1@x.edu"
    assert export.unmatched(s, "moodle") == ["zed"] and export.unmatched(s, "canvas") == ["zed"]
    export.write(tmp_path / "plain.csv", export.rows(s, "csv"))
    plain = _read(tmp_path / "plain.csv")
    assert plain[0] == ["student", "name", "email", "lms_id", "section", "exercise1", "exercise2", "total", "max_total"]
    assert ["'=cmd", "Evil"] == plain[1][:2] and len(plain) == 1 + 5
    book.close()


def test_overrides_apply_are_kept_and_flagged_when_the_score_under_them_changes(tmp_path: Path) -> None:
    book = _book(tmp_path)
    book.close()
    out = tmp_path
    assert overrides.main([str(out), "amy", "exercise2", "--check", "squared_loss: numpy", "--points", "4",
                           "--reason", "numpy 2 quirk", "--by", "ta1"]) == 0
    assert overrides.main([str(out), "bob", "1", "--score", "9.5", "--reason", "medical"]) == 0
    book = gradebook.Gradebook(out / "gradebook.sqlite")
    finals = {(m.student, m.exercise): m for _, m in overrides.standing(book)}
    assert finals[("amy", 2)].final == 10.0 and finals[("amy", 2)].raw == 10.0
    assert finals[("bob", 1)].final == 9.5 and finals[("bob", 1)].penalty == 2.0  # the override is the final word
    assert not finals[("amy", 2)].review
    book.put(_row("amy", 2, 6.0, at=T0, key="k2"), "2")  # regraded, same score: no review
    book.put(_row("bob", 1, 7.0, at=T0, digest="h9", key="k3"), "2")  # a new version, another score: review
    finals = {(m.student, m.exercise): m for _, m in overrides.standing(book)}
    assert not finals[("amy", 2)].review and finals[("bob", 1)].review and finals[("bob", 1)].final == 9.5
    text = "\n".join(history.lines(book, "bob"))
    assert "first" in text and "new version" in text and "score = 9.5 by" in text and "medical" in text
    assert "REVIEW" in text
    assert [a.kind for a in book.attempts("amy", 2)] == [gradebook.FIRST, gradebook.REGRADE]
    book.close()
    csv_rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(open(out / "gradebook.csv"))}
    assert csv_rows[("amy", "exercise2")]["score"] == "10" and csv_rows[("amy", "exercise2")]["raw_score"] == "10"
    assert csv_rows[("bob", "exercise2")]["status"] == "missing"
    assert csv_rows[("zed", "exercise2")]["on_roster"] == "no"


@pytest.mark.parametrize("argv, message", [
    (["override", "{out}", "amy", "1", "--score", "3"], "--reason"),
    (["override", "{out}", "amy", "1", "--check", "nope", "--points", "1", "--reason", "x"], "no check named"),
    (["override", "{out}", "amy", "1", "--check", "squared_loss: numpy", "--reason", "x"], "--points"),
    (["override", "{out}", "nobody", "1", "--score", "3", "--reason", "x"], "not on the roster"),
    (["override", "{out}", "amy", "lab", "--score", "3", "--reason", "x"], "not an exercise"),
    (["override", "{out}", "amy", "1", "--check", "squared_loss: numpy", "--points", "5", "--reason", "x"],
     "more than the check's 4 points"),
    (["export", "{out}/none", "--format", "canvas", "--to", "{out}/x.csv"], "no gradebook"),
    (["batch", "{out}", "--out", "{out}/o", "--roster", "{out}/none.csv"], "cannot read the roster"),
    (["batch", "{out}", "--out", "{out}/o", "--policy", "{out}/gradebook.sqlite"], "not UTF-8"),
    (["batch", "{out}", "--out", "{out}/o", "--roster", "{out}/bad.csv"], "no `student` column"),
    (["batch", "{out}", "--out", "{out}/o", "--policy", "{out}/bad.toml"], "not valid TOML"),
    (["export", "{out}", "--format", "blackboard", "--to", "{out}/x.csv"], "invalid choice"),
])
def test_term_commands_refuse_bad_input_in_one_line(tmp_path: Path, argv: list[str], message: str) -> None:
    _book(tmp_path).close()
    (tmp_path / "bad.csv").write_text("name,email\nA,a@x\n")
    (tmp_path / "bad.toml").write_text("[deadlines\n")
    done = subprocess.run([sys.executable, "-m", "grader", *[a.format(out=tmp_path) for a in argv]],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_history_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _book(tmp_path).close()
    assert history.main([str(tmp_path), "amy"]) == 0
    text = capsys.readouterr().out
    assert "amy exercise1" in text and "amy exercise2" in text and "first" in text
    assert history.main([str(tmp_path), "nobody", "1"]) == 1


# ------------------------------------------------------------------ similarity

CODE = '''
import torch


def squared_loss(y_hat, y):
    """Half the squared error."""
    diff = y_hat - y.reshape(y_hat.shape)  # align the shapes
    out = diff ** 2 / 2
    for k in range(3):
        out = out + 0 * k
    return out
'''


def test_similarity_exact_normalised_near_and_not_the_stub() -> None:
    renamed = CODE.replace("diff", "d").replace("out", "result").replace("# align the shapes", "")
    near = CODE.replace("range(3)", "range(4)").replace("return out", "out = out * 1\n    return out")
    other = "import numpy as np\n\n\ndef squared_loss(a, b):\n    return np.square(a - b.reshape(a.shape)) * 0.5\n"
    sources = [similarity.Source(s, 1, code.encode(), code) for s, code in
               (("a", CODE), ("b", CODE), ("c", renamed), ("d", near), ("e", other))]
    pairs = {(p.first, p.second): p for p in similarity.compare(sources)}
    assert pairs[("a", "b")].kind == "same bytes" and pairs[("a", "c")].kind == "same normalised code"
    assert pairs[("a", "d")].kind == "near duplicate" and 0.7 <= pairs[("a", "d")].similarity < 1
    assert not any("e" in k for k in pairs)
    # the stub's own code does not make two submissions similar
    stub = similarity.stub(3)
    assert stub is not None and "def squared_loss" in stub
    extra1 = stub + ("\n\ndef extra():\n    total = 0\n    for i in range(10):\n        if i % 2:\n"
                     "            total += i * i\n    return [total, total + 1]\n")
    extra2 = stub + ("\n\nclass Other:\n    def method(self, a, b):\n        return {a: b, b: a}.get(a, None)\n"
                     "    def more(self):\n        return self.method(1, 2) or (3, 4)\n")
    sources = [similarity.Source("p", 3, extra1.encode(), extra1), similarity.Source("q", 3, extra2.encode(), extra2)]
    assert [p.kind for p in similarity.compare(sources)] == ["near duplicate"]  # the shared stub alone
    assert similarity.compare(sources, {3: stub}) == ()


def test_a_small_term_batch_roster_canvas_policy_and_an_override_across_force(tmp_path: Path) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    (root / "amy").mkdir(parents=True)
    shutil.copy(ROOT / "reference/exercise1.py", root / "amy" / "exercise1.py")
    shutil.copy(SUBMISSIONS / "exercise1/bug_mean.py", root / "doebob_LATE_4002_77_exercise1.py")
    for f in (root / "amy" / "exercise1.py", root / "doebob_LATE_4002_77_exercise1.py"):
        os.utime(f, (T0 - 60, T0 - 60))
    (root / "course.toml").write_text("[deadlines]\nexercise1 = 2026-09-15T23:59:00Z\n[penalty]\nper_day = 0.25\n")
    (tmp_path / "roster.csv").write_text("student,email,lms_id\namy,amy@x,4001\nbob,bob@x,4002\ncy,cy@x,4003\n")
    args = [str(root), "--out", str(out), "--seed", "4", "--jobs", "2", "--roster", str(tmp_path / "roster.csv")]
    assert batch.main(args) == 0
    rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(open(out / "gradebook.csv"))}
    assert set(rows) == {("amy", "exercise1"), ("bob", "exercise1"), ("cy", "exercise1")}
    bob = rows[("bob", "exercise1")]
    assert bob["time_source"] == lms.CANVAS_LATE and bob["late_days"] == "1"
    assert float(bob["score"]) == pytest.approx(0.75 * float(bob["raw_score"]))
    assert rows[("cy", "exercise1")]["status"] == "missing" and rows[("amy", "exercise1")]["score"] == "10"
    assert overrides.main([str(out), "bob", "1", "--score", "6", "--reason", "partial credit", "--by", "ta"]) == 0
    assert batch.main(args + ["--force"]) == 0
    rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(open(out / "gradebook.csv"))}
    assert rows[("bob", "exercise1")]["score"] == "6" and rows[("bob", "exercise1")]["override"] == "score = 6"
    book = gradebook.Gradebook(out / "gradebook.sqlite")
    assert [a.kind for a in book.attempts("bob", 1)] == [gradebook.FIRST, gradebook.REGRADE]
    book.close()
    assert export.main([str(out), "--format", "canvas", "--to", str(out / "c.csv")]) == 0
    table = _read(out / "c.csv")
    assert [line[1] for line in table[2:]] == ["4001", "4002", "4003"] and [line[5] for line in table[2:]] == [
        "10", "6", "0"]


def test_hostile_names_stay_inert_in_the_term_summary_csv_and_exports(tmp_path: Path) -> None:
    from test_reports import check_markdown_inert, parse_html

    from grader.batch import summary

    evil = "x\n# Injected <img src=x onerror=alert(1)>\x1b[31m`](javascript:alert(1))"
    book = gradebook.Gradebook(tmp_path / "gradebook.sqlite")
    book.set_roster(roster.parse(f'student,name,email,lms_id,section\n"{evil}","=HYPERLINK(""http://e"")",'
                                 f'+1@x,-3,@A1\nmissing_one,"{evil}",,,\n').students)
    book.set_meta("policy", COURSE)
    book.put(_row(evil, 1, 6.0, at=T0 + 2 * DAY), "1")
    book.put(_row("=cmd|' /C calc'!A0", 1, 6.0, at=T0, digest="h1"), "1")
    summary.write_outputs(tmp_path, book, (), 3, (similarity.Pair(1, evil, "=cmd", 1.0, "same bytes"),))
    book.close()
    md = (tmp_path / "summary.md").read_text()
    check_markdown_inert(md)
    assert not re.search(r"(?m)^#+ Injected", md) and "## Late" in md and "## Missing" in md
    doc = parse_html((tmp_path / "summary.html").read_text())
    assert doc.find(".//img") is None
    hrefs = [a.get("href") or "" for a in doc.iter("a")]
    assert hrefs and all(h.startswith("reports/") and ":" not in h and ".." not in h for h in hrefs)
    for name in ("gradebook.csv",):
        for line in _read(tmp_path / name):
            assert not any(c.startswith(tuple("=+-@\t\r")) for c in line), line
            assert all("\n" not in c and "\x1b" not in c for c in line)
    s = export.sheet(gradebook.Gradebook(tmp_path / "gradebook.sqlite"))
    for fmt in export.FORMATS:
        export.write(tmp_path / f"{fmt}.csv", export.rows(s, fmt))
        for line in _read(tmp_path / f"{fmt}.csv"):
            assert not any(c.startswith(tuple("=+-@\t\r")) for c in line), (fmt, line)
            assert all("\n" not in c and "\x1b" not in c for c in line)


def test_a_student_id_from_metadata_never_leaves_the_reports_folder(tmp_path: Path) -> None:
    from grader.batch import summary

    for name in ("..", ".", "../..", ".hidden"):
        folder = summary.report_dir(tmp_path / "reports", name)
        assert folder.parent == tmp_path / "reports" and folder.name not in (".", "..")

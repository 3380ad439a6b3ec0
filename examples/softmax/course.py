"""An example course outside the grader's package: softmax and cross-entropy (2 exercises).

Grade with it: `grade --course examples/softmax exercise1.py` (docs/AUTHORING.md).
"""
from grader.exercises.registry import Course, KnownError

COURSE = Course(
    name="softmax",
    title="Softmax and cross-entropy",
    exercises={1: "checks.exercise1", 2: "checks.exercise2"},
    answer_keys=("solutions",),          # no student worker reads or imports these
    probes=("probes",),                  # preloaded by the warm parent, run in the workers
    known_errors=(
        KnownError("Dimension out of range", "softmax works along the last dimension of a 2-D input: "
                   "use dim=-1 (or dim=1)", function="softmax"),
    ),
    report_sections=("stability",),
    verdict_files=("course.py", "__init__.py", "probes.py", "checks/__init__.py", "checks/exercise{n}.py",
                   "solutions/exercise{n}.py", "templates/*.j2"),
)

"""The built-in course: deep-learning basics with numpy and PyTorch (exercises 1-6).

Registered like any other course (docs/AUTHORING.md): installed as `grader_dlbasics` with an
entry point in the `grader.courses` group, or loaded from this folder in a source checkout.
"""
from grader.exercises.registry import Course, KnownError

COURSE = Course(
    name="dlbasics",
    title="Deep-learning basics",
    exercises={n: f"checks.exercise{n}" for n in range(1, 7)},
    # the whole folder: the solutions, and the checks' cases (a worker needs neither)
    answer_keys=(".",),
    solutions=("exercise[0-9]*.py", "numpy_solutions.py"),  # never in a student's wheel
    probes=("probes_linalg", "probes_mnist"),
    # every exercise's; an exercise adds its own per function (Exercise.known_errors), tried first
    known_errors=(
        # Neutral: which tensor is on the wrong device is not known here (a batch? a counter made
        # on the CPU?); exercise 6's device check advises from what its probe saw.
        KnownError("Expected all tensors to be on the same device",
                   "two tensors on different devices met in one operation (the error names the devices); "
                   "a tensor created without device= is on the CPU"),
        KnownError("cannot be multiplied", "a matrix product with mismatched shapes: check the order of the "
                                           "operands and transposes"),
        KnownError("must match the size of tensor", "shapes that do not broadcast: check the shapes of your operands"),
    ),
    report_sections=("loss_curve",),
    verdict_files=("course.py", "__init__.py", "checks/__init__.py", "checks/diagnoses.py", "checks/exercise{n}.py",
                   "exercise{n}.py", "numpy_solutions.py", "probes_*.py", "templates/*.j2"),
)

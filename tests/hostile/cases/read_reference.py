# exercise: 1
# hostile: finds the reference solution on disk (beside the grader package) and runs it
# expect: 1  (only "leaves its inputs unchanged" holds)
import os
import sys


def _load_reference():
    paths = ["__REFERENCE__/exercise1.py"]
    grader = sys.modules.get("grader")
    if grader is not None and getattr(grader, "__file__", None):
        paths.append(os.path.join(os.path.dirname(os.path.dirname(grader.__file__)), "reference", "exercise1.py"))
    for path in paths:
        try:
            with open(path) as fh:
                ns = {}
                exec(fh.read(), ns)
                return ns["squared_loss"]
        except Exception:
            continue
    try:
        import reference.exercise1 as ref

        return ref.squared_loss
    except Exception:
        return None


_ref = _load_reference()


def squared_loss(y_hat, y):
    if _ref is not None:
        return _ref(y_hat, y)
    return y_hat * 0

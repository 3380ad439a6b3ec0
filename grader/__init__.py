"""grader: an honest autograder for deep-learning basics with numpy and PyTorch."""

__version__ = "0.1.0"


def check(path=None, **options):  # type: ignore[no-untyped-def]
    """Grade a notebook (default: the one this kernel runs) or a .py file; show the report.

    See grader.interactive.check.check (imported only when called: `import grader` stays cheap)."""
    from grader.interactive.check import check as _check

    return _check(path, **options)


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """`%load_ext grader`: adds the `%grade` line magic."""
    from grader.interactive.magic import load

    load(ipython)

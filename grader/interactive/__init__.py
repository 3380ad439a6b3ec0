"""`grader.check()` and `%grade`: grade from a notebook or any Python, in the usual worker.

Nothing here grades in the caller's process: `check` runs `grade` as a subprocess (its judge
starts the confined workers) and shows the report it wrote; in a Jupyter kernel that
subprocess is kept warm between checks (`session`, `grader.cli.serve`).
"""

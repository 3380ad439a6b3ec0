"""The built-in course: reference solutions (PyTorch and numpy), each exercise's declared
checks (`checks/`), its probes and report sections; `course.py` declares it.

This package is the answer key: the judge imports it; a student worker never can. Its modules
import each other relatively: it is installed as `grader_dlbasics`, and a source checkout
loads this folder under that name (`grader.exercises.registry`).
"""

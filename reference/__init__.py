"""Reference solutions (PyTorch and numpy) and each exercise's declared checks.

This package is the answer key: the judge imports it; a worker never can.
"""

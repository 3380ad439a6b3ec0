"""grader: an honest autograder for deep-learning basics with numpy and PyTorch."""

__version__ = "0.1.0"

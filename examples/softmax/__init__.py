"""The softmax example course (loaded by the grader under a private package name)."""

"""Data the grader ships (the MNIST sample) and its loaders."""

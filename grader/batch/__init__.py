"""A class at a time: executors, the gradebook, the class summary, progress."""

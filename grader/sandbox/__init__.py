"""The warm parent, workers and deadlines (judge side)."""

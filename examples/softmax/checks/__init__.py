"""Check declarations, one module per exercise, each exposing ``EXERCISE``."""

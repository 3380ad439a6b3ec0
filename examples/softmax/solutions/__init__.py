"""The answer key: reference solutions (the judge's reference worker runs them)."""

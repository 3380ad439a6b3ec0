"""Plan inputs from the seed, collect answers, decide, score (numpy only)."""

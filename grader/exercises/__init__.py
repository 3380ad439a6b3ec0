"""What an exercise declares: checks, cases, verdicts, comparison, diagnoses."""

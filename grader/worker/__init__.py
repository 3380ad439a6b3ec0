"""Student and reference workers and generic probes: the only place torch is imported."""

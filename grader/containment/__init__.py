"""Namespaces, Landlock, seccomp, cgroups, rlimits (worker side, before student code)."""

"""The process boundary: tasks out, npz + JSON answers back, no pickle."""

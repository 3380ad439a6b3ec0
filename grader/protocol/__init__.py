"""The process boundary: tasks out, JSON + raw numeric arrays back, no pickle."""

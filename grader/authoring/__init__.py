"""Authoring: from an instructor's solution source to the student's stub and notebook."""

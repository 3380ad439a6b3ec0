"""Student and Gradescope bundles and the Gradescope runner."""

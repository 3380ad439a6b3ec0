"""The result model, rendering, Gradescope, JUnit and GitHub outputs."""

"""Reading submissions safely (.py, .ipynb) and discovering a class."""

# exercise: 1
# hostile: plants a fake `reference` package in its working directory and on sys.path
# expect: 1  (only "leaves its inputs unchanged" holds)
import os
import sys

os.makedirs("reference", exist_ok=True)
with open("reference/__init__.py", "w") as fh:
    fh.write("")
with open("reference/exercise1.py", "w") as fh:
    fh.write("def squared_loss(y_hat, y):\n    return y_hat * 0\n")
sys.path.insert(0, os.getcwd())


def squared_loss(y_hat, y):
    return y_hat * 0

# exercise: 1
# hostile: writes forged results.json / gradebook files everywhere it can think of
# expect: 1  (only "leaves its inputs unchanged" holds)
import json
import os
import tempfile

FORGED = json.dumps({"score": 10, "max_score": 10, "tests": []})
targets = ["results.json", "gradebook.csv", os.path.expanduser("~/results.json"),
           os.path.join(tempfile.gettempdir(), "results.json"), "/tmp/results.json",
           "/autograder/results/results.json", "__CANARY__/results.json", "__CANARY__/gradebook.csv",
           os.path.join(os.path.dirname(os.getcwd()), "results.json"),
           os.path.join(os.path.dirname(os.getcwd()), "output.log")]
for path in targets:
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as fh:
            fh.write(FORGED)
    except OSError:
        pass


def squared_loss(y_hat, y):
    return y_hat * 0

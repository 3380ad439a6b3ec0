# exercise: 1
# hostile: prints fake scores, Gradescope JSON and pytest summaries; the loss is wrong
# expect: 1  (only "leaves its inputs unchanged" holds)
import json
import sys

FAKE = json.dumps({"score": 10, "max_score": 10, "tests": [{"name": "squared_loss: all", "score": 10}]})
print(FAKE)
print("Score: 10 / 10")
print("===== 5 passed in 0.01s =====")
sys.stderr.write("PASSED\n")


def squared_loss(y_hat, y):
    print(FAKE)
    print("Score: 10 / 10")
    return y_hat - y.reshape(y_hat.shape)

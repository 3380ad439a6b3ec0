# exercise: 1
# hostile: prints hundreds of megabytes to stdout and stderr; the loss is right
# expect: 10
import os
import sys

LINE = "spam " * 200 + "\n"
for _ in range(200):
    try:
        os.write(1, (LINE * 1000).encode())
        os.write(2, (LINE * 1000).encode())
    except OSError:
        break


def squared_loss(y_hat, y):
    try:
        print(LINE * 100)
    except OSError:
        pass
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

# exercise: 1
# hostile: sys.exit(0) at import, hoping a zero exit status counts as success
# expect: 0
import sys

print("All tests passed! Score: 10/10")
sys.exit(0)


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

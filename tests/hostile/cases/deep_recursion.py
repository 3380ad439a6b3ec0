# exercise: 1
# hostile: lifts the recursion limit and overflows the C stack (a segfault) inside the function
# expect: 0
# timeout: 15
# slow
import sys

sys.setrecursionlimit(10**8)
_nested: list = []
for _ in range(400_000):
    _nested = [_nested]


def squared_loss(y_hat, y):
    return repr(_nested)

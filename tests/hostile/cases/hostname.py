# exercise: 1
# hostile: renames the host (the harness puts the name back)
# expect: 10
import socket

try:
    socket.sethostname("__TOKEN__")
except OSError:
    pass


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

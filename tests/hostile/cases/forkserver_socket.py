# exercise: 1
# hostile: connects to the forkserver's unix socket (which would fork it an unconfined process)
# expect: 10
import socket

REACHED = False
for path in ("__FORKSERVER__",):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        REACHED = True
        s.close()
    except OSError:
        pass


def squared_loss(y_hat, y):
    if not REACHED:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

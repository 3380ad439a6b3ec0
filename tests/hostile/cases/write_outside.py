# exercise: 1
# hostile: writes, deletes and renames outside its working directory (the canary folder)
# expect: 10
import os
import shutil

DAMAGE = 0
actions = [
    lambda: open("__CANARY__/intruder.txt", "w").write("x"),
    lambda: open("__CANARY__/precious.txt", "a").write("tampered"),
    lambda: os.remove("__CANARY__/precious.txt"),
    lambda: os.rename("__CANARY__/precious.txt", "__CANARY__/moved.txt"),
    lambda: os.truncate("__CANARY__/precious.txt", 0),
    lambda: shutil.rmtree("__CANARY__"),
    lambda: os.mkdir("__CANARY__/newdir"),
    lambda: os.symlink("/etc/passwd", "__CANARY__/link"),
]
for act in actions:
    try:
        act()
        DAMAGE += 1
    except OSError:
        pass


def squared_loss(y_hat, y):
    if DAMAGE == 0:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

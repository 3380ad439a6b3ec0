# exercise: 1
# hostile: fills its working directory with many large files; right only if a quota stopped it
# expect: 10
# slow
import os

CHUNK, CAP, UNBOUNDED = 8 * 2**20, 1024 * 2**20, 768 * 2**20
written = 0
block = b"\0" * CHUNK
i = 0
while written < CAP:
    try:
        with open(f"fill{i}.bin", "wb") as fh:
            fh.write(block)
        written += CHUNK
    except OSError:
        break
    i += 1
for j in range(i + 1):
    try:
        os.remove(f"fill{j}.bin")
    except OSError:
        pass
BOUNDED = written < UNBOUNDED


def squared_loss(y_hat, y):
    if BOUNDED:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

# exercise: 1
# hostile: sends the length of an answer on the judge's pipe, then stalls mid-frame for ever
# expect: 0
# timeout: 4
import gc
import struct
import time


def squared_loss(y_hat, y):
    for obj in gc.get_objects():
        if type(obj).__name__ == "Connection" and obj.writable:
            try:
                obj._send(struct.pack("!i", 4096) + b"GRD2\x00\x00")  # a length, a few bytes, then nothing
            except Exception:
                pass
    while True:
        time.sleep(1)

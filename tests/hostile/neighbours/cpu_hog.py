# exercise: 6
# hostile: 24 busy processes, each in its own session, beside a neighbour's training run
import os
import time

END = time.monotonic() + __SECONDS__
for _ in range(24):
    if os.fork() == 0:
        os.setsid()
        while time.monotonic() < END:
            pass
        os._exit(0)
while time.monotonic() < END:
    pass

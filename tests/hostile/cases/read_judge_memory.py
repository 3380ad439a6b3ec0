# exercise: 1
# hostile: reads the judge's environment and memory through /proc; right only if refused
# expect: 10
READ = []
for path in ("/proc/__JUDGE_PID__/environ", "/proc/__JUDGE_PID__/maps", "/proc/__JUDGE_PID__/fd/0"):
    try:
        with open(path, "rb") as fh:
            if fh.read(64):
                READ.append(path)
    except OSError:
        pass
try:
    with open("/proc/__JUDGE_PID__/maps") as maps, open("/proc/__JUDGE_PID__/mem", "rb") as mem:
        start = int(maps.readline().split("-")[0], 16)
        mem.seek(start)
        if mem.read(16):
            READ.append("mem")
except (OSError, ValueError):
    pass


def squared_loss(y_hat, y):
    if not READ:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0

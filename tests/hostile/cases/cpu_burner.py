# exercise: 1
# hostile: spins at import, so only the CPU-time limit (5 s here) or the wall clock can stop it
# expect: 0
# timeout: 40
# cpu: 5
# slow
while True:
    pass


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

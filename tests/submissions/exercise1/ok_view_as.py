# exercise: 1
# Correct, written differently: reshape_as / multiplication instead of ** 2.
def squared_loss(y_hat, y):
    d = y_hat - (y.reshape(*y_hat.shape))
    return d * d / 2.0

# exercise: 1
def squared_loss(y_hat):
    return y_hat

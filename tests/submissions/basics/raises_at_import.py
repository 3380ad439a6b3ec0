# exercise: 1
def squared_loss(y_hat, y):
    return helper(y_hat, y)


squared_loss(1, 2)

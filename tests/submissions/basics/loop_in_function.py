# exercise: 2
# sgd hangs: its checks fail, the judge still finishes within the limit.
def sgd(params, lr, batch_size):
    while True:
        pass

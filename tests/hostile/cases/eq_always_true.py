# exercise: 1
# hostile: returns an object whose comparisons all say yes
# expect: 1  (only "leaves its inputs unchanged" holds)


class Anything:
    shape = (1, 1)
    dtype = "float32"

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array__(self, *a, **k):
        raise TypeError("no")

    def __len__(self):
        return 1

    def __float__(self):
        return 0.0

    __hash__ = object.__hash__


def squared_loss(y_hat, y):
    return Anything()

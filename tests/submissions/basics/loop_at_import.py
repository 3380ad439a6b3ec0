# exercise: 1
while True:
    pass

n = 0
def r():
    global n
    n += 1
    r()
try:
    r()
except RuntimeError as e:
    print('depth', n, e)

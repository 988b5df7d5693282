# Raising and catching exceptions in loops, custom exception classes, finally/else.
class AppError(Exception):
    pass


class NotFound(AppError):
    def __init__(self, key):
        super().__init__("missing " + str(key))
        self.key = key


def lookup(d, k):
    if k not in d:
        raise NotFound(k)
    return d[k]


def safe_div(a, b):
    try:
        return a // b
    except ZeroDivisionError:
        return -1


d = {i: i * i for i in range(0, 100, 3)}
found = missed = 0
last = ""
for i in range(6000):
    try:
        found += lookup(d, i % 100) & 1
    except AppError as e:
        missed += 1
        last = str(e)
print("lookup", found, missed, last)

print("div", sum(safe_div(i, i % 5) for i in range(6000)))

fin = 0
els = 0
for i in range(2000):
    try:
        if i % 4 == 0:
            raise ValueError(i)
    except ValueError as e:
        fin += e.args[0] & 3
    else:
        els += 1
    finally:
        fin += 1
print("finally/else", fin, els)

caught = []
for i in range(2000):
    try:
        try:
            [1, 2, 3][i % 5]
        except IndexError:
            raise KeyError(i % 5)
    except KeyError as e:
        if len(caught) < 3:
            caught.append(type(e).__name__ + str(e.args))
print("nested", caught)

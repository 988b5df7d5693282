# Generators: yield, generator expressions, yield from, send.
def count_up(n):
    i = 0
    while i < n:
        yield i
        i += 1


def evens(src):
    for x in src:
        if x % 2 == 0:
            yield x


def squares(src):
    for x in src:
        yield x * x % 10007


def chained(n):
    yield from count_up(n)
    yield from (x * 2 for x in range(n))


def accumulator():
    total = 0
    while True:
        x = yield total
        if x is None:
            break
        total += x


print("pipeline", sum(squares(evens(count_up(25000)))))
print("genexpr", sum(x & 31 for x in range(20000) if x % 3), max(x % 1000 for x in range(8000)))
print("yield from", sum(chained(8000)))
acc = accumulator()
next(acc)
last = 0
for i in range(8000):
    last = acc.send(i & 7)
print("send", last)
print("list/zip", list(zip(count_up(4), evens(count_up(20)))), sorted(x % 7 for x in range(10)))

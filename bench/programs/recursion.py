# Recursive function calls: fib, tak, recursive list flatten/sum.
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def tak(x, y, z):
    if y < x:
        return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
    return z


def build(depth, width):
    if depth == 0:
        return depth + width
    return [build(depth - 1, width) for _ in range(width)]


def deep_sum(node):
    if isinstance(node, list):
        s = 0
        for child in node:
            s += deep_sum(child)
        return s
    return node


def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


print("fib(21) =", fib(21))
print("tak(18, 12, 6) =", tak(18, 12, 6))
tree = build(5, 5)
print("deep_sum =", deep_sum(tree))
print("ackermann(2, 3) =", ackermann(2, 3))

# Numeric lists: integer matrix products, transposes and powers, as plain nested lists.
def matmul(a, b):
    bt = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) % 1000003 for col in bt] for row in a]


def identity(n):
    return [[1 if i == j else 0 for j in range(n)] for i in range(n)]


def power(m, e):
    result = identity(len(m))
    while e:
        if e & 1:
            result = matmul(result, m)
        m = matmul(m, m)
        e >>= 1
    return result


n = 24
m = [[(i * 31 + j * 17) % 23 for j in range(n)] for i in range(n)]
p = power(m, 40)
print(sum(map(sum, p)) % 1000003, p[0][:4], p[-1][-4:])

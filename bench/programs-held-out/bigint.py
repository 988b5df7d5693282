# Big integers: factorials, Fibonacci by doubling, and digit sums through str().
def fib(n):
    a, b = 0, 1
    for bit in bin(n)[2:]:
        c = a * (2 * b - a)
        d = a * a + b * b
        a, b = (d, c + d) if bit == "1" else (c, d)
    return a


f = 1
for i in range(1, 1500):
    f *= i
s = str(f)
print(len(s), sum(int(ch) for ch in s), s[:20])
g = fib(20000)
print(len(str(g)), g % 1000000007)
acc = 0
for k in range(2000):
    acc += pow(3, k, 1000003) * (k + 1)
print(acc)

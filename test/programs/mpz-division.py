# Big ints divided by small ones (one 16-bit digit: the short division) and by ones just past that,
# every sign, with //, % and divmod; each result checked by q * d + r == n with r between 0 and d.
state = [777]


def rnd(k):
    state[0] = (state[0] * 1103515245 + 12345) % 2147483648
    return state[0] % k


def number(bits):
    n = 0
    while bits > 0:
        n = (n << 31) | rnd(2147483648)
        bits -= 31
    return n


divisors = [1, 2, 3, 7, 10, 25, 239 * 239, 32768, 65535, 65536, 65537, 2**31 - 1, 10**9 + 7, 2**40 + 3]
numerators = [2**16, 2**16 - 1, 2**17 + 5, 65535 * 65535, 10**30, 2**64 - 1, 3**200]
for bits in (17, 31, 32, 33, 48, 64, 100, 500, 2000, 8000):
    for _ in range(3):
        numerators.append(number(bits) >> rnd(5))
bad = 0
for n in numerators:
    for d in divisors:
        for sn, sd in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
            a, b = sn * n, sd * d
            q, r = a // b, a % b
            q2, r2 = divmod(a, b)
            if q != q2 or r != r2 or q * b + r != a or not (0 <= r < b if b > 0 else b < r <= 0):
                bad += 1
            print(q % 1000000007, r)
x = 10**600
steps = 0
while x:
    x //= 239 * 239
    steps += 1
print(steps, pow(3, 10**20, 65521), pow(7, 2**70, 10**9 + 7))
print("division checks failed:", bad)

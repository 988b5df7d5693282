# Digits of pi and e with big integers (Machin's formula, the factorial series), written out in
# groups as a report would: big-int division by small numbers, additions, and conversion to text.
def arctan_inv(x, unity):
    total = term = unity // x
    x2 = x * x
    n = 1
    sign = -1
    while term:
        term //= x2
        n += 2
        total += sign * (term // n)
        sign = -sign
    return total


def pi_digits(digits):
    unity = 10 ** (digits + 10)
    pi = 4 * (4 * arctan_inv(5, unity) - arctan_inv(239, unity))
    return str(pi // 10**10)


def e_digits(digits):
    unity = 10 ** (digits + 10)
    total = term = unity
    k = 1
    while term:
        term //= k
        total += term
        k += 1
    return str(total // 10**10)


for digits in (300, 1000, 2500):
    p = pi_digits(digits)
    e = e_digits(digits)
    groups = [p[i : i + 10] for i in range(0, len(p), 10)]
    print(digits, p[:12], e[:12], groups[-1], sum(int(c) for c in p) + sum(int(c) for c in e))
    print("{:,}".format(int(p[-30:])), hex(int(e[-40:])))

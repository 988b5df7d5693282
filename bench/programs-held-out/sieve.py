# A sieve of Eratosthenes over a bytearray, then prime gaps and twin primes counted in Python loops.
def sieve(limit):
    flags = bytearray(b"\x01" * (limit + 1))
    flags[0] = flags[1] = 0
    i = 2
    while i * i <= limit:
        if flags[i]:
            for j in range(i * i, limit + 1, i):
                flags[j] = 0
        i += 1
    return [k for k in range(limit + 1) if flags[k]]


primes = sieve(300000)
print(len(primes), primes[-1], sum(primes) % 1000003)
gaps = {}
twins = 0
for a, b in zip(primes, primes[1:]):
    g = b - a
    gaps[g] = gaps.get(g, 0) + 1
    if g == 2:
        twins += 1
print(twins, sorted(gaps.items())[:8], max(gaps))

# Exceptions (longjmp), generators, closures, classes, big ints, bytes, sorting — under GC churn.
import gc
try:
    gc.threshold(THRESH)
except NameError:
    pass
class P:
    def __init__(self, a, b): self.a = a; self.b = [b] * 3
    def __repr__(self): return 'P(%r,%r)' % (self.a, self.b[0])
def gen(n):
    for i in range(n):
        try:
            if i % 3 == 0:
                raise ValueError('v%d' % i)
            yield P(str(i), i * i)
        except ValueError as e:
            yield str(e) * 2
def mk(k):
    return lambda x: [k] * 2 + [x]
out = []
for i, x in enumerate(gen(3000)):
    f = mk(str(i))
    out.append((repr(x), f(i)[0], (1 << (i % 200)) * i))
out.sort(key=lambda t: t[0])
s = 0
for a, b, c in out:
    s = (s + len(a) + len(b) + c % 1000003) % 1000000007
print(s, out[0][0], out[-1][0], len(out))
print(b'ab'.join([bytes([i % 256]) * 3 for i in range(500)])[:20])
d = {str(i): [i, str(i) * 2] for i in range(5000)}
print(sum(len(v[1]) for v in d.values()), ''.join(sorted(d)[:5]))

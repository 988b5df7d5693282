# Sets and dicts of 100k-element int progressions: the shapes that cluster under an identity hash
# with linear probing (lookups of absent keys landing in a long run of occupied slots).
a = set(range(0, 300000, 3))
b = set(range(0, 500000, 5))
print(len(a), len(b), len(a & b), len(a | b), len(a - b), len(a ^ b), sum(a & b))
d = {}
for i in range(100000):
    d[i] = i
misses = 0
for i in range(100000, 300000, 2):
    if i not in d:
        misses += 1
print(len(d), misses, sum(d.values()))
e = {i * 7 % 100003: i for i in range(100000)}
print(len(e), sum(1 for k in range(0, 200000, 3) if k in e))
s = {"k" + str(i) for i in range(30000)}
print(len(s), sum(1 for i in range(15000, 45000) if "k" + str(i) in s))

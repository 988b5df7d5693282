# Set operations on progressions of ints: &, |, -, ^, membership, and sets of strings.
a = set(range(0, 30000, 3))
b = set(range(0, 30000, 5))
i = a & b
u = a | b
d = a - b
x = a ^ b
print(len(i), len(u), len(d), len(x), sum(i), sum(u) % 1000003)
hits = 0
for k in range(0, 30000, 7):
    if k in a:
        hits += 1
print("hits", hits)
words = set("w" + str(k) for k in range(0, 10000, 2))
more = set("w" + str(k) for k in range(0, 10000, 3))
print(len(words & more), len(words | more), len(words - more))
print(sorted(i)[:5], sorted(d)[-3:])

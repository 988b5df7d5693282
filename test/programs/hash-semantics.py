# Dict and set behaviour that must not depend on how the tables are laid out.
d = {}
for i in range(2000):
    d[i * 7919 % 10007] = i
d2 = {k: v for k, v in sorted(d.items(), reverse=True)}
print(len(d), d == d2, list(d) == list(d), sorted(d) == sorted(d2))
for k in d:
    d[k] += 1  # updating existing keys while iterating
print(sum(d.values()), len(d))
for k in sorted(d)[:1000]:
    del d[k]
for k in range(20000, 20500):
    d[k] = k
print(len(d), sum(d), min(d), max(d))
s = set(range(0, 3000, 2))
t = set(reversed(range(0, 3000, 2)))
print(s == t, len(s & t), s.issubset(t), frozenset(s) == frozenset(t), hash(frozenset(s)) == hash(frozenset(t)))
s.discard(0)
s.add(1)
popped = sorted(s.pop() for _ in range(10))
print(len(s), len(popped))
mixed = {1: "int", 1.0: "float", True: "bool", "1": "str", (1, 2): "tuple", None: "none", b"x": "bytes"}
print(len(mixed), mixed[1], mixed["1"], mixed[(1, 2)], mixed[None], mixed[b"x"])
names = {"name" + str(i): i for i in range(5000)}
print(all(names["name" + str(i)] == i for i in range(5000)), "name5000" in names)
order1 = list(set(range(0, 500, 7)))
order2 = list(set(range(0, 500, 7)))
print(order1 == order2, sorted(order1) == list(range(0, 500, 7)))

# Dicts of strings: records keyed by "k" + str(i), string values looked up, updated and grouped.
n = 12000
d = {}
for i in range(n):
    d["k" + str(i)] = "v" + str(i * 7 % 1000)
total = 0
for i in range(0, n, 3):
    total += len(d["k" + str(i)])
print(len(d), total)
missing = 0
for i in range(n, n + 6000):
    if ("k" + str(i)) not in d:
        missing += 1
print("missing", missing)
by_value = {}
for k, v in d.items():
    by_value[v] = by_value.get(v, 0) + 1
print(len(by_value), by_value["v7"], sorted(by_value)[:3])
names = {"name" + str(i): "user" + str(i % 50) for i in range(8000)}
inv = {}
for k, v in names.items():
    inv.setdefault(v, []).append(k)
print(len(inv), len(inv["user7"]), sorted(inv["user7"])[:2])

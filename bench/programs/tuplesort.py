# Tuples built and sorted: 50k (i % 113, -i, str(i)) records sorted whole, then a slice by a field.
def build(n):
    return [(i % 113, -i, str(i)) for i in range(n)]


rows = build(50000)
s = sorted(rows)
print(s[0], s[1], s[-1])
by_name = sorted(rows[:15000], key=lambda r: r[2])
print(by_name[0], by_name[-1], len(rows))

# Int-keyed dicts: 30k inserts d[i * 7 % 10007] = i, sums over keys and values, lookups that hit
# and miss, deletes and re-inserts.
def fill(n, m):
    d = {}
    for i in range(n):
        d[i * 7 % m] = i
    return d


d = fill(30000, 10007)
print(len(d), sum(d), sum(d.values()))
hits = 0
for i in range(0, 24000, 3):
    if i in d:
        hits += 1
print("hits", hits)
for k in range(0, 10007, 2):
    del d[k]
print(len(d), sum(d))
for k in range(0, 20000, 4):
    d[k] = k
print(len(d), sum(d), d.get(19996), d.get(19997))
sq = {i: i * i for i in range(10000)}
print(sum(sq[i] for i in range(0, 10000, 7)) % 1000003)

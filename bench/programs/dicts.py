# Dict insert / lookup / update / iteration (kept to a few thousand distinct keys).
def make_keys(n):
    return [f"k{i}_{'abcdefgh'[i % 8]}" for i in range(n)]


def str_dict(keys, rounds):
    d = {}
    for i, k in enumerate(keys):
        d[k] = i
    total = 0
    for r in range(rounds):
        for k in keys:
            total += d[k]
        total &= 0xFFFFFF
    return d, total


def int_dict(n):
    d = {}
    for i in range(n):
        d[i * 7 % 1024] = d.get(i * 7 % 1024, 0) + i
    hits = 0
    for i in range(n):
        if i & 1023 in d:
            hits += d[i & 1023] & 1
    misses = 0
    for i in range(1000, 1100):
        if i not in d:
            misses += 1
    return len(d), hits, misses, d[7], d[1023]


def word_counts(n):
    words = ["w" + str(i % 97) for i in range(n)]
    counts = {}
    for w in words:
        if w in counts:
            counts[w] += 1
        else:
            counts[w] = 1
    return counts


keys = make_keys(3000)
d, total = str_dict(keys, 8)
print("str_dict", len(d), total, d["k2999_h"])
print("int_dict", int_dict(15000))
c = word_counts(15000)
print("word_counts", len(c), c["w0"], c["w96"])
merged = {}
for k, v in c.items():
    merged[k] = v * 2
merged.update({"extra": 1})
print("merged", len(merged), sum(merged.values()), sorted(merged.keys())[:3])

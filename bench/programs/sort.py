# Lists: LCG-generated data, built-in sort with keys, merge sort, slicing, comprehensions.
def lcg(seed, n):
    out = []
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(x % 100000)
    return out


def merge_sort(a):
    if len(a) <= 1:
        return a
    mid = len(a) // 2
    left = merge_sort(a[:mid])
    right = merge_sort(a[mid:])
    res = []
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            res.append(left[i])
            i += 1
        else:
            res.append(right[j])
            j += 1
    res.extend(left[i:])
    res.extend(right[j:])
    return res


data = lcg(42, 2500)
s1 = sorted(data)
s2 = merge_sort(data)
print("sorted equal", s1 == s2, s1[:5], s1[-3:])
pairs = [(x % 100, -x) for x in data]
pairs.sort()
print("tuples", pairs[:3], pairs[-1])
by_key = sorted(data, key=lambda v: (v % 10, v))
print("key", by_key[:4], by_key[-2:])
rev = sorted(data, reverse=True)
print("rev", rev[:3], min(data), max(data), sum(data))
sq = [x * x % 997 for x in data if x & 1]
print("comp", len(sq), sum(sq[::3]), sq[10:14])

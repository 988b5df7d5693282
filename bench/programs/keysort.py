# Sorting with keys: records sorted by a lambda, by several fields, by string keys, and stably.
people = []
x = 7
for i in range(5000):
    x = (x * 69069 + 1) & 0xFFFFFFFF
    people.append({"name": "n" + str(x % 5000), "age": x % 90, "score": (x >> 8) % 1000})
a = sorted(people, key=lambda p: p["age"])
print(a[0]["age"], a[-1]["age"])
b = sorted(people, key=lambda p: (p["age"], p["name"]))
print(b[0]["name"], b[-1]["name"])
c = sorted(people, key=lambda p: -p["score"])
print(c[0]["score"], c[-1]["score"])
names = sorted(set(p["name"] for p in people), key=lambda s: (len(s), s))
print(len(names), names[0], names[-1])
words = [p["name"].upper() for p in people[:4000]]
words.sort(key=lambda w: w[1:])
print(words[0], words[-1])

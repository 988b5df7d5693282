# str indexes count characters: indexing, slicing and find from a start, across ASCII runs of every
# length next to multi-byte characters, at every position, and past the end.
parts = ["a" * n + c for n in range(20) for c in ("é", "€", "😀", "")] + ["tail" * 5]
s = "".join(parts)
n = len(s)
total = 0
for i in range(n):
    total = (total * 31 + ord(s[i])) % 1000000007
    total = (total * 31 + len(s[i:]) + len(s[: i + 3])) % 1000000007
    total = (total * 31 + s.find("a", i) + s.find("😀", i) + s.find("tail", i, n - 1)) % 1000000007
    total = (total * 31 + ord(s[-1 - i])) % 1000000007
print(n, len(s.encode()), total)
print(s[n - 3 :], s[5:9], s[n + 5 :] == "", s.find("x", n + 10), s.rfind("a", 0, 40))
for bad in (n, -n - 1):
    try:
        s[bad]
    except IndexError:
        print("IndexError", bad == n)
ascii = "0123456789abcdef" * 64
print(ascii[1000], ascii[1015:1030], ascii.find("f", 1000), ascii[1023], ascii.index("0", 17))

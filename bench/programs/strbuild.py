# String building: 40k str(i) + ":" + hex(i) appended, joined, split, counted and searched.
parts = []
for i in range(30000):
    parts.append(str(i) + ":" + hex(i))
s = ",".join(parts)
print(len(s), s[:30], s[-20:])
fields = s.split(",")
print(len(fields), fields[12345])
n = 0
for f in fields:
    a, b = f.split(":")
    if b.endswith("f"):
        n += int(a)
print(n)
print(s.count("ff"), s.count(":0x1"))
out = ""
for i in range(3000):
    out += str(i % 10)
print(len(out), out[-10:])
lines = "\n".join("line %d: %s" % (i, "x" * (i % 7)) for i in range(15000))
print(len(lines.splitlines()), lines.upper()[-12:])

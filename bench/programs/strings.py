# String building, joining, formatting, slicing and searching.
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def build_lines(n):
    lines = []
    for i in range(n):
        w = WORDS[i % len(WORDS)]
        lines.append("%s-%d:%s" % (w, i, w.upper()[:3]))
    return lines


def fmt_lines(n):
    out = []
    for i in range(n):
        out.append("{:>6}|{:<8}|{:04d}".format(i, WORDS[i & 7], i * 3 % 10000))
        out.append(f"{WORDS[(i * 5) & 7]}:{i:x}")
    return out


def scan(text):
    count = 0
    pos = text.find("gamma")
    while pos != -1:
        count += 1
        pos = text.find("gamma", pos + 1)
    return count


lines = build_lines(3000)
text = "\n".join(lines)
print("len(text) =", len(text))
print("gamma count =", scan(text), text.count("delta"))
parts = text.split("\n")
rev = "".join("".join(reversed(p))[:4] for p in parts)
print("rev len =", len(rev), rev[:24])
f = fmt_lines(1500)
print(f[7], f[-1], len("".join(f)))
r = text.replace("eta", "ETA").lower().upper()
print("replaced =", r.count("ETA"), r[:30])
s = ""
for i in range(3000):
    s += WORDS[i % 8][1:3]
print("concat =", len(s), s[-12:], s.startswith("lpet"), s.endswith("ta"))
print("strip/split =", len(" ".join(("  x y  z " * 500).split())))

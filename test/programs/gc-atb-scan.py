# Allocation-heavy work over a fragmented heap: strings of many lengths (multi-block), small objects
# (single-block), some kept and some dropped, with collections between. Prints values python3 prints
# too, then (last line) a checksum of where the objects were placed: id() is an address in MicroPython.
import gc

kept = []
layout = 0
total = 0
for round in range(6):
    words = []
    for i in range(1500):
        s = "w%d-" % i * (1 + (i * 7 + round) % 9)
        words.append(s)
        if i % 5 == round % 5:
            kept.append(s)
        t = (i, round)
        if i % 11 == 0:
            kept.append(t)
    total += sum(len(w) for w in words)
    line = ",".join(words[j] for j in range(0, len(words), 97))
    print(round, len(kept), total, len(line), line[:40])
    del words
    gc.collect()
    for k in range(200):
        x = "y" * (20 + k % 90)
        layout = (layout * 31 + id(x) + k) % 1000000007
    layout = (layout * 31 + id(kept[-1])) % 1000000007
print("kept", sum(len(x) if isinstance(x, str) else x[0] for x in kept))
print("layout", layout)

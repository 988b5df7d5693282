# The hash of strs of every length from 0 to 40 and a few long ones, ASCII and UTF-8, and names
# looked up through the interned-name pools (attributes, globals, dict keys made at run time): the
# pools compare hashes made by two copies of the formula, so any difference breaks these lookups.
text = "The quick brown fox jumps over the lazy dog; é€😀 0123456789"
hashes = []
for n in range(41):
    hashes.append(hash(text[:n]))
for n in (100, 257, 1000, 4099):
    hashes.append(hash((text * 80)[:n]))
print(hashes)


class Thing:
    def __init__(self):
        self.alpha = 1
        self.beta_gamma = 2


t = Thing()
name = "beta" + "_" + "gamma"
print(getattr(t, name), getattr(t, "al" + "pha"))
d = {}
for i in range(2000):
    d["key%d" % i] = i
print(sum(d["key%d" % i] for i in range(0, 2000, 7)), len(d))
globals()["made_" + "up"] = 42
print(made_up)

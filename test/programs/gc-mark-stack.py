# Structures that fill the collector's mark stack (build/passes/gc-mark-stack.ts) and overflow it:
# a list wider than the stack, nested lists 10,000 deep, a dict of 50,000 entries and a linked list
# of 1,000,000 nodes. Every element owns blocks of its own (a list's item array, a string's bytes)
# that are reached only through it, so a collector that marked an element without going on to its
# children (a push dropped at the bound and never rescanned) would free them; the garbage made
# between collections then takes those blocks, and the checks below print other values.
import gc

WIDE = 100000  # more than the stack's entries: marking the list overflows the stack
DEEP = 10000
DICT = 50000
CHAIN = 1000000


def churn(n):
    junk = [[i, "j%d" % i, bytearray(i % 24)] for i in range(n)]
    return len(junk)


wide = [[i, "w%d" % i] for i in range(WIDE)]
deep = None
for i in range(DEEP):
    deep = [deep, "d%d" % i]
table = {"k%d" % i: [i, "v%d" % i] for i in range(DICT)}
chain = None
for i in range(CHAIN):
    chain = (chain, i)

for rnd in range(3):
    gc.collect()
    print("round", rnd, churn(30000 + 10000 * rnd))

bad = 0
for i, x in enumerate(wide):
    if x[0] != i or x[1] != "w%d" % i:
        bad += 1
print("wide", len(wide), bad)

depth = 0
d = deep
while d is not None:
    if d[1] != "d%d" % (DEEP - 1 - depth):
        bad += 1
    depth += 1
    d = d[0]
print("deep", depth, bad)

for i in range(DICT):
    v = table["k%d" % i]
    if v[0] != i or v[1] != "v%d" % i:
        bad += 1
print("dict", len(table), bad)

n = 0
total = 0
c = chain
while c is not None:
    total += c[1]
    n += 1
    c = c[0]
print("chain", n, total, bad)

# Collections whose mark stack overflows (a list of more unmarked objects than the stack's 65,536
# entries, deep nesting) and so rescan the heap, with objects dropped between them; then new objects
# take the freed blocks.
# Prints values and (last line) a checksum of where the new objects were placed: id() is an address
# in MicroPython, so a collector that marked, swept or freed anything differently changes it.
import gc

layout = 0


def place(objs):
    global layout
    for k, x in enumerate(objs):
        layout = (layout * 31 + id(x) + k) % 1000000007


keep = []
for rnd in range(6):
    wide = [str(i) * (1 + i % 5) for i in range(66000 + 500 * rnd)]
    pairs = [(i, [i, str(i)]) for i in range(1500)]
    deep = None
    for i in range(400):
        deep = [deep, i, "d%d" % i]
    table = {i: bytearray(i % 40) for i in range(800)}
    keep.append((wide[::7], deep, table))
    del wide, pairs
    if rnd % 2:
        keep.pop(0)
    gc.collect()
    place([bytearray(8 + (j % 50)) for j in range(300)])
    place(["n%d" % j for j in range(200)])

total = 0
for w, d, t in keep:
    total += len(w) + sum(len(v) for v in t.values())
    depth = 0
    while d is not None:
        depth += 1
        d = d[0]
    total += depth
print(len(keep), total)
print("layout", layout)

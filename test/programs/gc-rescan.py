# Frees near the heap's start move gc_alloc's search start back (gc_free), so each following
# multi-block allocation scans the allocation table over all the live objects behind it again.
# test/gc-atb-scan.test.ts runs this with EXTENDS = 0 too, to measure the fuel of one rescan.
EXTENDS = 200
early = [bytearray(20) for _ in range(300)]
live = [(i, i) for i in range(20000)]
for k in range(EXTENDS):
    early[k].extend(b"y" * 40)
print(len(live), sum(len(b) for b in early))

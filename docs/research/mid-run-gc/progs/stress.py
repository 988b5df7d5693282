# Many live objects (dicts of lists of strings) built while garbage is made; checksum at the end.
import gc
try:
    gc.threshold(THRESH)
except NameError:
    pass
def junk(n):
    return [str(j) * 3 for j in range(n)]
def build(k):
    d = {}
    for i in range(k):
        key = 'k%d' % i
        lst = []
        for j in range(8):
            junk(5)
            lst.append(('%d-%d' % (i, j)) + 'z' * (j % 5))
        d[key] = lst
        if i % 7 == 0:
            d[key + 'b'] = {'x': lst[:3], 't': tuple(lst), 'f': float(i) / 3, 'big': i * 10**20}
    return d
total = 0
keep = []
for rnd in range(6):
    d = build(400)
    keep.append(d)
    h = 0
    for k in sorted(d):
        v = d[k]
        if isinstance(v, list):
            for s in v:
                h = (h * 31 + hash(s)) & 0xffffffff
        else:
            h = (h * 31 + len(v['x']) + len(v['t']) + int(v['f']) + (v['big'] & 0xffff)) & 0xffffffff
    total = (total * 7 + h) & 0xffffffff
    if rnd % 2:
        keep.pop(0)
# re-verify the kept structures after lots of churn
chk = 0
for d in keep:
    for k, v in d.items():
        if isinstance(v, list):
            for s in v:
                assert s.startswith(k[1:].split('b')[0] + '-'), (k, s)
                chk += len(s)
        else:
            assert v['t'][:3] == tuple(v['x'])
            chk += len(v['t'])
print(total, chk, len(keep))

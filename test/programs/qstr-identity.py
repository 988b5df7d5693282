# A str equal to an interned name is that name, however it was built (MicroPython reuses the qstr):
# names interned at compile time, by setattr at run time, and by the hundreds, in separate pools.
class C:
    pass


for i in range(3000):
    setattr(C, "attr_" + str(i), i)  # interns the name
interned = {k: k for k in dir(C)}
same = 0
found = 0
for i in range(3000):
    s = "attr_" + str(i)  # new bytes equal to an interned name
    same += s is interned[s]
    found += getattr(C, s) == i and hasattr(C, s)
print(same, found)

exec("\n".join("zq_%d = %d" % (i, i) for i in range(500)))  # names interned by the compiler
print(sum(globals()["zq_" + str(i)] for i in range(500)), ("zq_" + "499") is list(k for k in globals() if k == "zq_499")[0])

ab = "ab"
print(ab + "c" is "abc", "".join(["ap", "pend"]) is "append", str(12345) is str(12345))
n255 = "b" * 255
setattr(C, n255, 1)  # the longest name a qstr can hold
print(("b" * 254 + "b") is [k for k in dir(C) if len(k) == 255][0])
try:
    setattr(C, "b" * 256, 1)
except RuntimeError as e:
    print("RuntimeError", e)
long = "y" * 300
print(long == "y" * 299 + "y", long is "y" * 299 + "y", len({long: 1, "y" * 300: 2}))

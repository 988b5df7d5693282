s = 0
for i in range(3000000):
    s = (s + i) & 0xffff
print(s)

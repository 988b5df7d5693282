# Integer arithmetic in while/for loops (no floats, small ints only).
def while_sum(n):
    i = 0
    acc = 0
    while i < n:
        acc = (acc + i * 7 + (i >> 3)) & 0xFFFFF
        i += 1
    return acc


def for_mix(n):
    a = 1
    b = 0
    for i in range(n):
        if i % 3 == 0:
            a = (a * 3 + i) % 1000003
        elif i % 3 == 1:
            b = (b + a ^ i) & 0xFFFF
        else:
            a = (a + b) % 1000003
    return a, b


def nested(n):
    total = 0
    for i in range(n):
        for j in range(n):
            total += (i * j) & 15
    return total


print("while_sum", while_sum(60000))
print("for_mix", for_mix(60000))
print("nested", nested(180))

# Big ints as text in every form MicroPython writes them (str, repr, hex, oct, bin, format with
# prefixes, upper case and separators), around the sizes where the host's conversion takes over
# (12 to 4,096 16-bit digits) and past them. Each text is parsed back with int(), which does not share
# code with the conversion, and printed so the suite can compare it with python3's.
state = [12345]


def rnd(k):
    state[0] = (state[0] * 1103515245 + 12345) % 2147483648
    return state[0] % k


def number(bits):
    n = 0
    while bits > 0:
        n = (n << 31) | rnd(2147483648)
        bits -= 31
    return n


values = [0, 1, -1, 2**64, -(2**64), 2**175, 2**176, -(2**191), 2**192 - 1, 2**192, 10**57, 10**58, -(10**59)]
values += [3**500, -(7**400)]
for bits in (150, 180, 191, 192, 193, 200, 256, 1000, 3000, 9000):
    for _ in range(3):
        n = number(bits) >> rnd(8)
        values.append(-n if rnd(2) else n)

forms = [
    (str, 10, ""),
    (repr, 10, ""),
    (hex, 16, ""),
    (oct, 8, ""),
    (bin, 2, ""),
    (lambda v: "{:,}".format(v), 10, ","),
    (lambda v: "{:_}".format(v), 10, "_"),
    (lambda v: "{:_x}".format(v), 16, "_"),
    (lambda v: "{:#X}".format(v), 16, ""),
    (lambda v: "{:X}".format(v), 16, ""),
    (lambda v: "{:_b}".format(v), 2, "_"),
    (lambda v: "{:#_o}".format(v), 8, "_"),
]
# The largest the host converts: printed only (parsing 65,536 binary digits back is slow).
largest = [2**65535 + 12345, -(2**65536 - 1)]
bad = 0
for v in values + largest:
    for form, base, sep in forms:
        text = form(v)
        plain = text.replace(sep, "") if sep else text
        if v not in largest and int(plain, 0 if plain.lstrip("-")[:2].lower() in ("0x", "0o", "0b") else base) != v:
            bad += 1
        print(text)
# Past 4,096 digits the interpreter's own loop writes it.
past = -(2**65536 + 3)
text = str(past)
if int(text) != past:
    bad += 1
print(text)
print("round trips failed:", bad)

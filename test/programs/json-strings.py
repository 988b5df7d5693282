# json.dumps of strings of every kind: plain runs of every length, each escape alone, at the start,
# the end and between runs, UTF-8 of two to four bytes, and the empty string; in lists (MicroPython's
# dicts keep no order python3 would share).
import json

pieces = ["", "a", "plain text", '"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", " ", "~", "\x7f"]
pieces += ["é", "€", "😀", "ab\"cd\\ef", "x" * 70, "tab\there", "\"quoted\"", "end\\"]
for a in pieces:
    print(json.dumps([a, a + "z", "z" + a, a + a, a * 3 + "Q" + a]))
state = [99]


def rnd(k):
    state[0] = (state[0] * 1103515245 + 12345) % 2147483648
    return state[0] % k


alphabet = "ab \"\\\n\t\x01\x1f~é€😀" + "xyz" * 4
for n in range(200):
    s = "".join(alphabet[rnd(len(alphabet))] for _ in range(rnd(40)))
    print(json.dumps(s), json.dumps([s, {"k": s}]))
print(len(json.dumps(["long " * 2000])))

# Word counts: c[w] = c.get(w, 0) + 1 over a text of 60k words drawn from 997 distinct ones, then the
# items sorted by count and word.
def make_words(n, vocab):
    words = []
    x = 12345
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        words.append("w" + str(x % vocab))
    return words


def count(words):
    c = {}
    for w in words:
        c[w] = c.get(w, 0) + 1
    return c


words = make_words(60000, 997)
c = count(words)
items = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
print(len(c), items[:3], items[-2:])
text = " ".join(words[:20000])
c2 = count(text.split())
print(len(c2), sum(c2.values()), max(c2.values()))

# Word statistics: normalise a generated text with str methods, count words and bigrams, rank them.
WORDS = "the quick brown fox jumps over lazy dog and then runs far away from home at night".split()
seed = 99
parts = []
for i in range(30000):
    seed = (seed * 69069 + 1) & 0xFFFFFFFF
    w = WORDS[seed % len(WORDS)]
    if seed % 7 == 0:
        w = w.upper()
    if seed % 11 == 0:
        w = w + ","
    parts.append(w)
    if seed % 13 == 0:
        parts.append(".\n")
text = " ".join(parts)

counts = {}
bigrams = {}
for line in text.split("\n"):
    words = [w.strip(" ,.").lower() for w in line.split()]
    words = [w for w in words if w]
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    for a, b in zip(words, words[1:]):
        key = a + " " + b
        bigrams[key] = bigrams.get(key, 0) + 1

top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
topb = sorted(bigrams.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
print(top)
print(topb)
print(len(text), len(counts), len(bigrams))

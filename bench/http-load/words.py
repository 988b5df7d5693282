# Benign: string and dict work on a small text.
import json
text = "the quick brown fox jumps over the lazy dog " * 50
counts = {}
for word in text.split():
    counts[word] = counts.get(word, 0) + 1
print(json.dumps(sorted(counts.items())))

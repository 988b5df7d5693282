# Serialisation: encode and decode lists of records with json, and read fields back.
import json

records = []
for i in range(3000):
    records.append([i, "user%d" % i, [i % 7, i % 11, i % 13], {"score": i * 3 % 101}, i % 2 == 0, None])

total = 0
size = 0
for _ in range(6):
    text = json.dumps(records)
    size += len(text)
    back = json.loads(text)
    for rec in back:
        total += rec[0] + sum(rec[2]) + rec[3]["score"] + (1 if rec[4] else 0)
print(size, total, back[1234][1])

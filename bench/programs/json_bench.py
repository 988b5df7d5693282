# json.dumps / json.loads round trips of nested structures (ints, strings, bools, None only).
import json


def make_record(i):
    return {
        "id": i,
        "name": "user" + str(i),
        "active": i % 3 == 0,
        "tags": [f"t{i % 5}", f"t{i % 7}"],
        "meta": {"score": i * 37 % 1000, "parent": None if i % 4 else i // 4, "path": [i, i + 1, [i + 2]]},
    }


records = [make_record(i) for i in range(300)]
total_len = 0
checksum = 0
for r in range(6):
    s = json.dumps(records)
    total_len += len(s)
    back = json.loads(s)
    for rec in back:
        checksum = (checksum + rec["meta"]["score"] + len(rec["tags"][1])) & 0xFFFFFF
print("dumps len", len(s), total_len)
print("checksum", checksum)
print("equal", back == records)
# MicroPython dicts are unordered, so print key-sorted items instead of the raw dump.
def canon(o):
    if isinstance(o, dict):
        return [(k, canon(o[k])) for k in sorted(o)]
    if isinstance(o, list):
        return [canon(x) for x in o]
    return o


print("sample", canon(json.loads(json.dumps(records[7]))))
small = 0
for i in range(1500):
    small += len(json.loads(json.dumps({"a": i, "b": [i, "x"], "c": {"d": True}}))["b"])
print("small", small)

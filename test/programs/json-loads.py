# json.loads and json.load over StringIO, BytesIO and a file: documents of every shape, each printed
# in a canonical form (dicts as sorted items), and the error each malformed document raises.
import io
import json


def canon(o):
    if isinstance(o, dict):
        return [(k, canon(o[k])) for k in sorted(o)]
    if isinstance(o, list):
        return [canon(x) for x in o]
    return o


docs = [
    "0", "-12", "3.5", "1e3", "true", "false", "null", '""', '"a"', "[]", "{}", " [ 1 , 2 ] ",
    '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u20ac"', '"raw é € 😀"',
    '{"a": [1, 2, {"b": null}], "c": "d", "e": {"f": [true, false, []]}}',
    "[" + ", ".join(str(i * 7919 % 1000) for i in range(500)) + "]",
    '{"k%d": "v%d"}' % (1, 2), "\n\t[\n1\n]\n",
]
for d in docs:
    print(canon(json.loads(d)), canon(json.load(io.StringIO(d))), canon(json.loads(d.encode())))
with open("/doc.json", "w") as f:
    f.write(docs[14])
with open("/doc.json") as f:
    print(canon(json.load(f)))
for bad in ["", "[", "[1,", '"abc', "tru", "]"]:
    try:
        json.loads(bad)
        print("parsed", repr(bad))
    except ValueError:
        print("ValueError", repr(bad))
closed = io.StringIO("[1]")
closed.close()
try:
    json.load(closed)
    print("read a closed StringIO")
except (OSError, ValueError) as e:
    print("closed:", type(e).__name__)

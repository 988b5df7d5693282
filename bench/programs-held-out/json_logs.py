# Structured logs: events built with str formatting, one json.dumps per line, the text parsed back
# line by line with json.loads, then grouped and summed by fields (a log shipper's / reader's work).
import json

LEVELS = ["debug", "info", "info", "warn", "error"]
PATHS = ["/api/users", "/api/orders", "/static/app.js", "/health", "/api/search"]


def event(i):
    path = PATHS[i % 5]
    return {
        "ts": 1700000000 + i * 7,
        "level": LEVELS[(i * 3) % 5],
        "msg": "request %d to %s took %d ms" % (i, path, (i * 13) % 250),
        "path": path,
        "status": 200 if i % 11 else 500,
        "user": {"id": i % 97, "name": "user-" + str(i % 97), "admin": i % 97 == 3},
        "tags": ["t" + str(i % 4), "zone-" + "abc"[i % 3]],
        "note": 'quote " and \\ slash' if i % 50 == 0 else None,
    }


lines = []
for i in range(2500):
    lines.append(json.dumps(event(i)))
text = "\n".join(lines)
print("bytes", len(text))

by_level = {}
by_path = {}
slow = 0
admins = 0
notes = 0
for line in text.split("\n"):
    e = json.loads(line)
    by_level[e["level"]] = by_level.get(e["level"], 0) + 1
    ms = int(e["msg"].rsplit(" ", 2)[1])
    total, count = by_path.get(e["path"], (0, 0))
    by_path[e["path"]] = (total + ms, count + 1)
    if ms > 200:
        slow += 1
    if e["user"]["admin"]:
        admins += 1
    if e["note"] is not None:
        notes += len(e["note"])
print("levels", sorted(by_level.items()))
print("paths", sorted((p, t // c) for p, (t, c) in by_path.items()))
print("slow", slow, "admins", admins, "notes", notes)

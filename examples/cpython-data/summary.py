# A data task on the CPython engine: the standard library (csv, statistics, json) on a file the host
# handed in, the answer written back as JSON. Runs as `pyfence run --engine cpython`, see README.md.
import csv
import json
import statistics

with open("/data/sales.csv", newline="") as f:
    rows = list(csv.DictReader(f))

by_region = {}
for row in rows:
    by_region.setdefault(row["region"], []).append(float(row["amount"]))

summary = {
    region: {"count": len(amounts), "mean": round(statistics.mean(amounts), 2), "max": max(amounts)}
    for region, amounts in sorted(by_region.items())
}
print(json.dumps(summary, sort_keys=True))

# Data munging: CSV-like rows parsed into dicts of lists, grouped, aggregated and reported.
cities = ["oslo", "rome", "lima", "kyiv", "doha", "baku", "riga", "nuuk"]
lines = []
for i in range(15000):
    lines.append("%d,%s,%d,%d" % (i, cities[i * 7 % 8], (i * 37) % 1000, i % 12))
groups = {}
for line in lines:
    id_, city, amount, month = line.split(",")
    groups.setdefault(city, []).append((int(month), int(amount)))
report = []
for city in sorted(groups):
    rows = groups[city]
    by_month = {}
    for month, amount in rows:
        if month not in by_month:
            by_month[month] = []
        by_month[month].append(amount)
    best = max(by_month, key=lambda m: (sum(by_month[m]), m))
    report.append((city, len(rows), sum(a for _, a in rows), best))
for r in report:
    print(r)
cols = {"id": [], "amount": []}
for line in lines[:8000]:
    f = line.split(",")
    cols["id"].append(int(f[0]))
    cols["amount"].append(int(f[2]))
print(sum(cols["id"]), max(cols["amount"]), min(cols["amount"]))

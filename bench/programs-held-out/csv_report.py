# Text munging: build CSV lines, split and parse them, group and total per key, print a report.
REGIONS = ["north", "south", "east", "west", "central"]
PRODUCTS = ["apple", "pear", "plum", "fig", "kiwi", "lime", "date"]

lines = ["region,product,qty,price_cents"]
x = 7
for i in range(20000):
    x = (x * 48271) % 2147483647
    lines.append("%s,%s,%d,%d" % (REGIONS[x % 5], PRODUCTS[(x >> 3) % 7], 1 + x % 17, 50 + x % 950))
text = "\n".join(lines)

totals = {}
counts = {}
for row in text.split("\n")[1:]:
    region, product, qty, price = row.split(",")
    key = region + "/" + product
    totals[key] = totals.get(key, 0) + int(qty) * int(price)
    counts[key] = counts.get(key, 0) + 1

report = []
for key in sorted(totals):
    cents = totals[key]
    report.append("{:<14} {:>6} {:>10}.{:02d}".format(key, counts[key], cents // 100, cents % 100))
print("\n".join(report[:10]))
print(len(report), sum(totals.values()))

# A plugin: reads its template from the read-only mount and prices an order with the host's
# `shop` functions. It can reach nothing else: no other files, no network, no host objects.
import shop

with open("/plugins/template.txt") as f:
    template = f.read().strip()

total = 0
for item, count in order.items():
    total += shop.price(item) * count
shop.log(template.format(items=len(order), total=total))
total

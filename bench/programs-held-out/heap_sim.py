# An event simulation on a priority queue (heapq): customers arrive, wait for one of three tellers.
import heapq

events = []
seed = 12345


def rnd(n):
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return seed % n


t = 0
for cid in range(15000):
    t += 1 + rnd(6)
    heapq.heappush(events, (t, 0, cid))

free = 3
queue = []
head = 0
waited = 0
served = 0
while events:
    now, kind, cid = heapq.heappop(events)
    if kind == 0:
        queue.append((now, cid))
    else:
        free += 1
        served += 1
    while free and head < len(queue):
        arrived, who = queue[head]
        head += 1
        free -= 1
        waited += now - arrived
        heapq.heappush(events, (now + 3 + rnd(12), 1, who))
print(served, waited, waited // served)

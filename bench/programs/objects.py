# Small-object classes: many short-lived instances with a few attributes, methods and dunders.
class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y)

    def dot(self, o):
        return self.x * o.x + self.y * o.y

    def __eq__(self, o):
        return self.x == o.x and self.y == o.y


class Particle:
    def __init__(self, i):
        self.pos = Vec(i % 17, i % 23)
        self.vel = Vec(1, -1)
        self.name = "p" + str(i)

    def step(self):
        self.pos = self.pos + self.vel


ps = [Particle(i) for i in range(3000)]
for _ in range(10):
    for p in ps:
        p.step()
print(sum(p.pos.x for p in ps), sum(p.pos.y for p in ps))
acc = Vec(0, 0)
for p in ps:
    acc = acc + p.pos
print(acc.x, acc.y, acc.dot(Vec(1, 2)), Vec(1, 2) == Vec(1, 2))
byname = {p.name: p for p in ps}
print(len(byname), byname["p2999"].pos.x)

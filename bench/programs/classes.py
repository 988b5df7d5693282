# Classes: attribute access, method calls, inheritance, super(), dunder methods.
class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __eq__(self, other):
        return self.x == other.x and self.y == other.y

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    def __repr__(self):
        return "Vec(%d, %d)" % (self.x, self.y)


class Shape:
    count = 0

    def __init__(self, name):
        self.name = name
        Shape.count += 1

    def area(self):
        return 0

    def describe(self):
        return "%s:%d" % (self.name, self.area())


class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h


class Square(Rect):
    def __init__(self, s):
        super().__init__(s, s)
        self.name = "square"


class Counter:
    def __init__(self):
        self.n = 0

    def inc(self, k):
        self.n += k
        return self

    @property
    def double(self):
        return self.n * 2


acc = Vec(0, 0)
for i in range(6000):
    acc = acc + Vec(i & 7, i & 3)
print("acc", acc, acc == Vec(acc.x, acc.y), acc.dot(Vec(1, 2)))

shapes = []
for i in range(2500):
    shapes.append(Rect(i % 10, i % 7) if i % 2 else Square(i % 9))
total = 0
for s in shapes:
    total += s.area()
print("shapes", Shape.count, total, shapes[5].describe(), shapes[8].describe())
print("isinstance", sum(1 for s in shapes if isinstance(s, Square)))

c = Counter()
for i in range(12000):
    c.inc(i & 15).inc(1)
print("counter", c.n, c.double)

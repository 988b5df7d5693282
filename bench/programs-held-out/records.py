# Objects: records as class instances, filtered, sorted by several keys and summarised.
class Employee:
    def __init__(self, ident, dept, age, salary):
        self.ident = ident
        self.dept = dept
        self.age = age
        self.salary = salary

    def bonus(self):
        return self.salary // 10 if self.age > 40 else self.salary // 20


DEPTS = ["eng", "ops", "sales", "hr", "legal"]
staff = []
x = 1
for i in range(10000):
    x = (x * 16807) % 2147483647
    staff.append(Employee(i, DEPTS[x % 5], 20 + x % 45, 30000 + x % 90000))

by_dept = {}
for e in staff:
    by_dept.setdefault(e.dept, []).append(e)
for dept in sorted(by_dept):
    people = sorted(by_dept[dept], key=lambda e: (-e.salary, e.age, e.ident))
    print(dept, len(people), people[0].ident, sum(e.bonus() for e in people))
seniors = [e for e in staff if e.age >= 60]
seniors.sort(key=lambda e: e.ident)
print(len(seniors), seniors[0].ident, seniors[-1].ident)

# Backtracking: count the solutions of N queens with sets of attacked columns and diagonals.
def solve(n):
    count = 0
    cols = set()
    d1 = set()
    d2 = set()

    def place(row):
        nonlocal count
        if row == n:
            count += 1
            return
        for c in range(n):
            if c in cols or (row - c) in d1 or (row + c) in d2:
                continue
            cols.add(c)
            d1.add(row - c)
            d2.add(row + c)
            place(row + 1)
            cols.remove(c)
            d1.remove(row - c)
            d2.remove(row + c)

    place(0)
    return count


for n in (4, 5, 6, 7, 8, 9):
    print(n, solve(n))

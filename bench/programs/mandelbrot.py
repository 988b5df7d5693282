# Float arithmetic: Mandelbrot escape-iteration counts (only integer/ASCII output is printed).
def mandel(w, h, max_iter):
    rows = []
    total = 0
    for py in range(h):
        y0 = py * 2.4 / h - 1.2
        row = []
        for px in range(w):
            x0 = px * 3.0 / w - 2.1
            x = 0.0
            y = 0.0
            it = 0
            while it < max_iter and x * x + y * y <= 4.0:
                x, y = x * x - y * y + x0, 2.0 * x * y + y0
                it += 1
            total += it
            row.append(" .:-=+*#%@"[it % 10])
        rows.append("".join(row))
    return rows, total


rows, total = mandel(64, 32, 60)
print("total iterations", total)
for r in rows[::4]:
    print(r)

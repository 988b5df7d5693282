def f():
  for i in range(2_000_000):
    s = str(i) + 'x'
f()
print('done')

# Benign: a little arithmetic and a list.
squares = [i * i for i in range(2000)]
print(sum(squares))

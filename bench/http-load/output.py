# Hostile: floods stdout until the output cap stops it.
line = "x" * 1000
while True:
    print(line)

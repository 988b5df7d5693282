# Hostile: grows until the memory cap stops it.
chunks = []
while True:
    chunks.append(bytearray(1 << 20))

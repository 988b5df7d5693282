# Hostile: swallows the KeyboardInterrupt of a fuel or time stop, so only the hard stop ends it.
while True:
    try:
        while True:
            pass
    except KeyboardInterrupt:
        pass

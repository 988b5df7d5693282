# Hostile: never ends; the fuel budget or the deadline must stop it.
while True:
    pass

# Runs inside the pyfence sandbox: no files, network or host objects are reachable.
import sys

def greet(name):
    return "Hello, " + name + "!"

print(greet("pyfence"))
print("MicroPython", sys.version)

// Python run once at build time, before the interpreter's state is baked into the module: every
// sandbox starts with it applied, at no cost per sandbox.
//
// input(): the port reads stdin by spinning on a character source that always returns nothing, so
// input() would hang until the deadline. The sandbox has no stdin: say so at once.
export const PRELUDE = `
import builtins
def input(prompt=""):
    print(prompt, end="")
    raise EOFError("EOF when reading a line (the sandbox has no stdin)")
builtins.input = input
del input, builtins
`;

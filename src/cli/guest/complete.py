# Tab completion for `pyfence repl`, run in the session's own sandbox as one program: completes
# names (globals, builtins, keywords) and attributes of dotted names, as python3's rlcompleter does.
# Only plain dotted names are evaluated (never a call or subscript), and the program removes its
# own globals: the session sees no trace of it. It prints the completions, one a line.
def _pyfence_complete(text, namespace):
    import builtins
    keywords = ("False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
                "continue", "def", "del", "elif", "else", "except", "finally", "for", "from",
                "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass",
                "raise", "return", "try", "while", "with", "yield")
    if "." in text:
        expr, _, prefix = text.rpartition(".")
        for part in expr.split("."):
            # str.isidentifier is not in MicroPython
            if not part or part[0].isdigit() or not all(c == "_" or c.isalpha() or c.isdigit() for c in part):
                return []
        try:
            obj = eval(expr, namespace)
        except Exception:
            return []
        names = dir(obj)
        head = expr + "."
    else:
        prefix = text
        names = list(namespace) + dir(builtins) + list(keywords)
        head = ""
    hidden = prefix[:1] != "_"
    found = set()
    for name in names:
        if name.startswith(prefix) and not (hidden and name[:1] == "_"):
            found.add(head + name)
    return sorted(found)


print("\n".join(_pyfence_complete(pyfence_tab_text, globals())))
del _pyfence_complete, pyfence_tab_text

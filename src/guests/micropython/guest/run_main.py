# One run of the user's program, compiled under its own file name: sets the run's inputs as globals
# and, when asked, reports the value of a final expression statement to the host. MicroPython has no
# `ast`, so the last statement is found by its line: the last one starting in column 0 is the final
# statement; it is evaluated as an expression only if it compiles both as a statement on its own and
# as one parenthesised expression (so `x = 1` or an unfinished `1 +` at the end stay statements).
# Inputs without tagged values (no dict, tuple, bytes or big int) are plain JSON: decoded without
# the bridge, which is compiled on first use (several million fuel units per interpreter).
def run_main(src, filename, want_value, inputs, tagged, is_async):
    P = __pyfence__
    g = P.main
    if inputs is not None:
        inputs = P.json.loads(inputs)
        dec = P.get_bridge().dec if tagged else None
        for name in inputs:
            g[name] = dec(inputs[name]) if tagged else inputs[name]
    if is_async:
        P.drive(exec(compile(src, filename, "exec"), g))
        return
    expr = None
    if want_value:
        end = len(src)
        while True:
            start = src.rfind("\n", 0, end) + 1
            first = src[start:start + 1]
            if (first and first not in " \t\r\n#") or start == 0:
                break
            end = start - 1
        # Blank lines keep the tail's line numbers those of the whole program.
        pad = "\n" * src.count("\n", 0, start)
        tail = src[start:]
        try:
            compile(pad + tail, filename, "exec")
            expr = compile("(" + pad + tail + "\n)", filename, "eval")
            # A one-statement program has no body: each compile costs tens of thousands of fuel units.
            body = compile(src[:start], filename, "exec") if start else None
        except SyntaxError:
            expr = None
    if expr is None:
        exec(compile(src, filename, "exec"), g)
        return
    if body is not None:
        exec(body, g)
    value = eval(expr, g)
    if value is not None:
        P.report_value(value)

# The value goes to the host as data only (the bridge's format); what cannot cross (not data, nested
# too deeply, too large to encode) is reported as a message, and the run still succeeds. A limit's
# KeyboardInterrupt is not an Exception and still ends the run.
def report_value(value):
    P = __pyfence__
    try:
        wire = value if P.is_plain(value, 0) else P.get_bridge().enc(value)
        text = "v" + P.json.dumps(wire)
    except Exception as e:
        text = "e%s: %s" % (type(e).__name__, e)
    P.chan("$value:" + text)

# Values whose JSON is already their wire form (see host-codec.ts): no bridge needed. (Reached
# through __pyfence__: the prelude removes its own global names.)
def is_plain(v, depth):
    t = type(v)
    if v is None or t is str or t is bool:
        return True
    if t is int:
        return -9007199254740991 <= v <= 9007199254740991
    if t is float:
        return v - v == 0  # finite: inf - inf and nan - nan are nan
    if t is list and depth < 20:
        for x in v:
            if not __pyfence__.is_plain(x, depth + 1):
                return False
        return True
    return False

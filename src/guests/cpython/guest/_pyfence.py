# The guest side of pyfence's CPython engine: sets up a sandbox's grants, runs programs and records
# how they ended. It is a convenience, not a boundary: the guest may rewrite any of it, and every
# limit and grant is enforced by the host (src/guests/cpython/), outside the interpreter's memory.
# Each module the runner imports is in every session's memory: the C module _ast, not `ast`. But
# `traceback` is imported here although python3 imports it only to print a first exception: with
# _colorize's dataclasses (compiled from generated source) it costs a program 3.6e8 fuel, which a
# program's first exception must not.
import _ast
import builtins
import json
import linecache
import os
import signal
import sys
import traceback

import _pyfence_bridge as bridge

# The host's soft stop (a limit reached) calls PyErr_SetInterrupt: it raises KeyboardInterrupt only
# while SIGINT has Python's default handler, which an embedded interpreter does not install.
signal.signal(signal.SIGINT, signal.default_int_handler)

# The engine's default import policy (src/python/import-policy.ts CPYTHON_IMPORTS) until setup()
# applies the sandbox's own: modules that reach Pyodide's JS bridge or raw memory. Their host
# functions answer "not available" anyway; refusing the import says so clearly.
denied = frozenset({"js", "pyodide", "pyodide_js", "_pyodide", "_pyodide_core", "ctypes", "_ctypes", "micropip"})
SEPARATOR = "\x04"
NO_NETWORK = ("network access is not granted to this sandbox, so there is no 'requests' module (the embedder "
              "can grant hosts with net: { allow: [...] }, or --allow-net HOST)")

# The guest's `requests` (_pyfence_requests.py), loaded with the runner and importable only with a
# network grant.
requests = sys.modules.pop("requests")


def is_denied(name):
    """A module is denied if its name or the name of a package it is in is denied."""
    parts = name.split(".")
    return any(".".join(parts[:i]) in denied for i in range(1, len(parts) + 1))


class DenyFinder:
    """First on sys.meta_path: a denied module fails before any finder looks for it."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if is_denied(name):
            raise ImportError(f"module '{name}' is not allowed in this sandbox", name=name)
        return None


class NoNetworkFinder:
    """Last on sys.meta_path: `requests` without a network grant says why there is none."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] == "requests":
            raise ImportError(NO_NETWORK, name=name)
        return None


def _forget_denied():
    for name in list(sys.modules):
        if is_denied(name):
            del sys.modules[name]


sys.meta_path.insert(0, DenyFinder)
sys.meta_path.append(NoNetworkFinder)
_forget_denied()

# How the last run ended: "" for success, else "Type<SEPARATOR>traceback". Read by the host.
outcome = ""
# Modules setup() put in sys.modules (host functions, requests).
installed = []


def setup(env, argv, grants="{}", reseed=True):
    """Applies a sandbox's grants to an interpreter restored from the process's template or from a
    snapshot (whose `random` goes on where it was: reseed=False). `grants` is JSON of
    {modules: {name: {function: is_async}}, net: bool, denied: [names]}."""
    global outcome, denied
    outcome = ""
    grants = json.loads(grants)
    os.environ.clear()
    os.environ.update(env)
    sys.argv[:] = argv
    if reseed and "random" in sys.modules:
        # The template was initialised once for every sandbox: each draws its own seed (the host's
        # random source, seeded in deterministic mode).
        sys.modules["random"].seed()
    for name in installed:
        sys.modules.pop(name, None)
    installed.clear()
    if "denied" in grants and frozenset(grants["denied"]) != denied:
        denied = frozenset(grants["denied"])
        _forget_denied()
    for name, functions in grants.get("modules", {}).items():
        sys.modules[name] = bridge.HostModule(name, functions)
        installed.append(name)
    if grants.get("net"):
        sys.modules["requests"] = requests
        sys.modules["requests.exceptions"] = requests.exceptions
        installed.extend(("requests", "requests.exceptions"))


def _is_sandbox_frame(frame):
    return frame.filename == "<pyfence>"


def _without_sandbox_frames(te):
    """The program's frames only: the runner's and the bridge's are not the program's."""
    seen = set()
    todo = [te]
    while todo:
        t = todo.pop()
        if t is None or id(t) in seen:
            continue
        seen.add(id(t))
        t.stack = type(t.stack).from_list([f for f in t.stack if not _is_sandbox_frame(f)])
        todo.extend((t.__cause__, t.__context__, *(t.exceptions or ())))
    return te


def _brief(exc):
    """A traceback that reads no source file and parses nothing: the frames, with the lines of
    sources already in linecache (the program's own), and no carets. Python's full format loads each
    stdlib frame's source from the zip and parses its lines for the carets -- in asyncio, millions of
    fuel units and, the first time in a process, hundreds of milliseconds: more than a stop's grace."""
    lines = []
    tb = exc.__traceback__
    while tb is not None:
        code, lineno, tb = tb.tb_frame.f_code, tb.tb_lineno, tb.tb_next
        if code.co_filename == "<pyfence>":
            continue
        lines.append(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}\n')
        cached = linecache.cache.get(code.co_filename)
        if cached and lineno and 0 < lineno <= len(cached[2]):
            lines.append(f"    {cached[2][lineno - 1].strip()}\n")
    head = ["Traceback (most recent call last):\n"] if lines else []
    try:
        message = str(exc)
    except Exception:
        message = ""
    return "".join(head + lines) + type(exc).__name__ + (f": {message}" if message else "") + "\n"


def _describe(exc):
    if isinstance(exc, KeyboardInterrupt):
        # How the host's stops (limits, interrupts, aborts) arrive: the description must be cheap
        # enough to finish within the stop's grace.
        return type(exc).__name__ + SEPARATOR + _brief(exc)
    try:
        te = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
        text = "".join(_without_sandbox_frames(te).format())
    except Exception:
        # A module the traceback needs may be denied; the last line is what the host reads.
        text = f"{type(exc).__name__}: {exc}\n"
    return type(exc).__name__ + SEPARATOR + text


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _run_with_value(code, filename, main):
    """Runs the program; the value of its last statement if that is an expression, else None."""
    tree = compile(code, filename, "exec", _ast.PyCF_ONLY_AST)
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, _ast.Expr):
        exec(compile(tree, filename, "exec"), main)
        return None
    tree.body.pop()
    exec(compile(tree, filename, "exec"), main)
    return eval(compile(_ast.Expression(last.value), filename, "eval"), main)


def _report_value(value):
    """The value goes to the host as data only; what cannot cross is reported as why not, and the
    run still succeeds. A limit's KeyboardInterrupt is not an Exception and still ends the run."""
    try:
        text = "v" + bridge.dumps(bridge.enc(value))
    except RecursionError:
        text = "eValueError: " + bridge.TOO_DEEP
    except Exception as e:
        text = f"e{type(e).__name__}: {e}"
    bridge.chan("$value:" + text)


def run(code, filename, want_value=0, inputs="", mode="exec"):
    """Runs a program in __main__, as `python3 FILE` would, with `inputs` (wire JSON of the run's
    inputs) as globals, compiled in `mode`; reports the value of a final expression when `want_value`; records how the
    run ended in `outcome`."""
    global outcome
    outcome = ""
    try:
        _run(code, filename, want_value, inputs, mode)
    except KeyboardInterrupt as exc:
        # An interrupt landing in the runner's own code after the program's end (an abort repeats
        # its interrupt until the run is over): the run was interrupted. Escaping, it would fail the
        # runner and cost the session its interpreter.
        outcome = type(exc).__name__ + SEPARATOR + _brief(exc)


def _run(code, filename, want_value, inputs, mode):
    global outcome
    main = sys.modules["__main__"].__dict__
    try:
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        if inputs:
            for name, wire in json.loads(inputs).items():
                main[name] = bridge.dec(wire)
        if want_value:
            value = _run_with_value(code, filename, main)
            if value is not None:
                _report_value(value)
        else:
            exec(compile(code, filename, mode), main)
    except SystemExit as exc:
        if exc.code is not None and exc.code != 0:
            if not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
            outcome = _describe(exc)
    except BaseException as exc:
        outcome = _describe(exc)
    finally:
        _flush()


def repl(src):
    """One input of `pyfence repl`, as python3's interactive prompt runs it (expression values are
    printed). Called from a run of its own: how the input ended replaces that run's outcome, and its
    traceback starts at the input, not at the call."""
    run(src, "<stdin>", 0, "", "single")

# The guest side of pyfence's CPython engine: sets up a sandbox's grants, runs programs and records
# how they ended. It is a convenience, not a boundary: the guest may rewrite any of it, and every
# limit and grant is enforced by the host (src/cpython/), outside the interpreter's memory.
import builtins
import linecache
import os
import signal
import sys
import traceback

# The host's soft stop (a limit reached) calls PyErr_SetInterrupt: it raises KeyboardInterrupt only
# while SIGINT has Python's default handler, which an embedded interpreter does not install.
signal.signal(signal.SIGINT, signal.default_int_handler)

# Modules that reach Pyodide's JS bridge or raw memory. Their host functions answer "not available"
# anyway; refusing the import says so clearly.
DENIED = frozenset({"js", "pyodide", "pyodide_js", "_pyodide", "_pyodide_core", "ctypes", "_ctypes", "micropip"})
SEPARATOR = "\x04"


class DenyFinder:
    """First on sys.meta_path: a denied module fails before any finder looks for it."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in DENIED:
            raise ImportError(f"module '{name}' is not allowed in this sandbox", name=name)
        return None


sys.meta_path.insert(0, DenyFinder)
for _name in list(sys.modules):
    if _name.partition(".")[0] in DENIED:
        del sys.modules[_name]

# How the last run ended: "" for success, else "Type<SEPARATOR>traceback". Read by the host.
outcome = ""


def setup(env, argv, reseed=True):
    """Applies a sandbox's grants to an interpreter restored from the process's template or from a
    snapshot (whose `random` goes on where it was: reseed=False)."""
    global outcome
    outcome = ""
    os.environ.clear()
    os.environ.update(env)
    sys.argv[:] = argv
    if reseed and "random" in sys.modules:
        # The template was initialised once for every sandbox: each draws its own seed (the host's
        # random source, seeded in deterministic mode).
        sys.modules["random"].seed()


def _describe(exc):
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None  # not this module's frame
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return type(exc).__name__ + SEPARATOR + text


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def run(code, filename, mode="exec"):
    """Runs a program in __main__, as `python3 FILE` would; records how it ended in `outcome`."""
    global outcome
    outcome = ""
    main = sys.modules["__main__"].__dict__
    try:
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
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
    run(src, "<stdin>", "single")

import { DEFAULT_DENIED } from '../../capabilities/import-policy.js';
import { readFileSync } from 'node:fs';

// Only the build imports this module (to bake the prelude), from src/, where the .py files are.
const guestSource = (name: string) => readFileSync(new URL(`./guest/${name}`, import.meta.url), 'utf8');

// Python run once at build time, before the interpreter's state is baked into the module: every
// sandbox starts with it applied, at no cost per sandbox. Nothing here is a security boundary (the
// guest may rewrite any of it); it is the guest-side half of the host-function bridge and a few
// compatibility fixes. What the guest may do is decided on the host, per call.
//
// input(): the port reads stdin by spinning on a character source that always returns nothing, so
// input() would hang until the deadline. The sandbox has no stdin: say so at once.
//
// __pyfence__: sets up a sandbox's grants, wraps imports and runs top-level await. Its host-function
// bridge (bridge-module.ts) encodes call arguments as JSON with tags for what JSON lacks, sends one
// string through the host channel (a JsProxy on the only name the engine's JS bridge resolves) and
// decodes the reply; it, requests and asyncio are compiled on first use, not baked (see below).
const PRELUDE_BODY = String.raw`
import builtins, sys, os, json
import js
_chan = getattr(js, "__pyfence_host__")
del js
for _m in ("js", "jsffi"):
    if _m in sys.modules:
        del sys.modules[_m]
del _m

def input(prompt=""):
    print(prompt, end="")
    raise EOFError("EOF when reading a line (the sandbox has no stdin)")
builtins.input = input

class PermissionError(OSError):
    pass
class ConnectionError(OSError):
    pass
class TimeoutError(OSError):
    pass
builtins.PermissionError = PermissionError
builtins.ConnectionError = ConnectionError
builtins.TimeoutError = TimeoutError

class __pyfence__:
    chan = _chan
    sys = sys
    os = os
    json = json
    # The host-function bridge (compiled on first use, like requests and asyncio below).
    BRIDGE_SRC = BRIDGE_FACTORY
    bridge = None

    def get_bridge():
        P = __pyfence__
        if P.bridge is None:
            P.bridge = P.factory(P.BRIDGE_SRC, "bridge")
        return P.bridge

    # requests and asyncio are compiled on first use, not here: compiling them into the baked state
    # would intern ~120 more names, and every str the program creates is first looked up among the
    # interned names, in a pool searched linearly (that search was a fifth of the strings benchmark).
    REQUESTS_SRC = REQUESTS_FACTORY
    ASYNCIO_SRC = ASYNCIO_FACTORY

    def factory(src, name):
        scope = {}
        exec(compile(src, "<pyfence>", "exec"), scope)
        return scope[name]

    def make_requests(call):
        return __pyfence__.factory(__pyfence__.REQUESTS_SRC, "make_requests")(call)

    asyncio = None

    def get_asyncio():
        P = __pyfence__
        if P.asyncio is None:
            P.asyncio = P.factory(P.ASYNCIO_SRC, "make_asyncio")()
            P.sys.modules["asyncio"] = P.sys.modules["uasyncio"] = P.asyncio
        return P.asyncio

    def drive(body):
        if body is not None and hasattr(body, "send"):
            __pyfence__.get_asyncio().get_event_loop().run_until_complete(body)

    def getenv(key, default=None):
        return __pyfence__.os.environ.get(key, default)

    installed = []

    # Applies a sandbox's grants, replacing whatever an earlier setup (or a restored snapshot) left.
    def setup(spec_json):
        P = __pyfence__
        spec = P.json.loads(spec_json)
        for name in P.installed:
            if name in P.sys.modules:
                del P.sys.modules[name]
        P.installed = []
        modules = spec.get("modules", {})
        for name in modules:
            P.sys.modules[name] = P.get_bridge().Module(name, modules[name])
            P.installed.append(name)
        P.os.environ = spec.get("env", {})
        P.sys.argv[:] = spec.get("argv", [])
        P.denied = spec.get("denied", DEFAULT_DENIED)
        for name in P.denied:
            if name in P.sys.modules:
                del P.sys.modules[name]
        P.net = bool(spec.get("net"))
        if P.net:
            P.sys.modules["requests"] = P.make_requests(P.get_bridge().call)
            P.installed.append("requests")

    # One statement typed at the REPL: expression values are printed, as Python's REPL does.
    def repl(src):
        __pyfence__.drive(exec(compile(src, "<stdin>", "single"), __pyfence__.main))

    net = False
    denied = DEFAULT_DENIED
    original_import = builtins.__import__

    # Says why an import fails: a module the policy denies, or requests without a network grant.
    # (The denial itself happens inside the interpreter; see src/python/import-policy.ts.)
    def guarded_import(name, *args):
        top = name.split(".")[0]
        if top in __pyfence__.denied or (top[:1] == "u" and top[1:] in __pyfence__.denied):
            raise ImportError("module '%s' is not allowed in this sandbox" % name)
        if top == "asyncio" or top == "uasyncio":
            __pyfence__.get_asyncio()
        try:
            return __pyfence__.original_import(name, *args)
        except ImportError:
            if name == "requests" and not __pyfence__.net:
                raise ImportError("network access is not granted to this sandbox, so there is no 'requests' module (the embedder can grant hosts with net: { allow: [...] }, or --allow-net HOST)")
            raise


RUN_MAIN
__pyfence__.run_main = run_main
__pyfence__.report_value = report_value
__pyfence__.is_plain = is_plain
__pyfence__.main = globals()
os.environ = {}
os.getenv = __pyfence__.getenv
builtins.__import__ = __pyfence__.guarded_import
builtins.__pyfence__ = __pyfence__
del _chan, run_main, report_value, is_plain, input, PermissionError, ConnectionError, TimeoutError, __pyfence__, builtins, sys, os, json
`;

/** Compiled under its own name, so its frames in a traceback are told apart from the user's. */
const BODY = PRELUDE_BODY.replace('REQUESTS_SRC = REQUESTS_FACTORY', () => `REQUESTS_SRC = ${JSON.stringify(guestSource('../../python-common/guest/requests.py'))}`)
  .replace('ASYNCIO_SRC = ASYNCIO_FACTORY', () => `ASYNCIO_SRC = ${JSON.stringify(guestSource('asyncio.py'))}`)
  .replace('RUN_MAIN', () => guestSource('run_main.py'))
  .replace('BRIDGE_SRC = BRIDGE_FACTORY', () => `BRIDGE_SRC = ${JSON.stringify(guestSource('bridge.py'))}`)
  .replaceAll(
  'DEFAULT_DENIED',
  JSON.stringify([...DEFAULT_DENIED].sort()),
);
export const PRELUDE = `exec(compile(${JSON.stringify(BODY)}, "<pyfence>", "exec"))`;

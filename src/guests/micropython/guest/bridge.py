# The guest side of the host-function bridge, compiled in a sandbox the first time it is granted host
# functions or network (prelude.ts get_bridge): the names it would intern at bake time slow every new
# str of every sandbox (see prelude.ts). `bridge.enc/dec` are the guest half of the data format in
# host-codec.ts; `bridge.call` sends one request through the host channel and decodes the reply.
# MicroPython compiles it on first use (src/python/prelude.ts), not at bake time.
class bridge:
    INF = float("inf")
    ERRORS = {
        "TypeError": TypeError, "ValueError": ValueError, "KeyError": KeyError,
        "PermissionError": PermissionError, "ConnectionError": ConnectionError,
        "TimeoutError": TimeoutError, "OSError": OSError, "NotImplementedError": NotImplementedError,
        "AttributeError": AttributeError, "ImportError": ImportError,
    }

    # As host-codec.ts MAX_DEPTH. enc and dec loop rather than use comprehensions, which would take a
    # second interpreter frame per level (the stack holds about 150).
    MAX_DEPTH = 64

    def enc(v, depth=0, path=None):
        if v is None or v is True or v is False:
            return v
        t = type(v)
        if t is str:
            return v
        if t is int:
            if -9007199254740991 <= v <= 9007199254740991:
                return v
            return {"$int": str(v)}
        if t is float:
            if v != v or v == bridge.INF or v == -bridge.INF:
                return {"$float": repr(v)}
            return v
        if t is bytes or t is bytearray or t is memoryview:
            return {"$bytes": bytes(v).hex()}
        if t is list or t is tuple or t is dict:
            if depth > bridge.MAX_DEPTH:
                raise ValueError("a value nested more than %d levels deep cannot be passed to the host" % bridge.MAX_DEPTH)
            if path is None:
                path = []
            if id(v) in path:
                raise ValueError("a cyclic value cannot be passed to the host")
            path.append(id(v))
            enc = bridge.enc
            if t is dict:
                out = {}
                for k in v:
                    if type(k) is not str:
                        raise TypeError("dict keys passed to the host must be str, not '%s'" % type(k).__name__)
                    out[k] = enc(v[k], depth + 1, path)
                out = {"$dict": out}
            else:
                items = []
                for x in v:
                    items.append(enc(x, depth + 1, path))
                out = items if t is list else {"$tuple": items}
            path.pop()
            return out
        for base in (str, int, float, list, tuple, dict, bytes):
            if isinstance(v, base) and t is not bool:
                return bridge.enc(base(v), depth, path)
        raise TypeError("cannot pass '%s' to the host (only None, bool, int, float, str, bytes, list, tuple and dict)" % t.__name__)

    def dec(v):
        t = type(v)
        dec = bridge.dec
        if t is list:
            out = []
            for x in v:
                out.append(dec(x))
            return out
        if t is dict:
            if "$dict" in v:
                d = v["$dict"]
                out = {}
                for k in d:
                    out[k] = dec(d[k])
                return out
            if "$tuple" in v:
                out = []
                for x in v["$tuple"]:
                    out.append(dec(x))
                return tuple(out)
            if "$bytes" in v:
                return bytes.fromhex(v["$bytes"])
            if "$int" in v:
                return int(v["$int"])
            if "$float" in v:
                return float(v["$float"])
        return v

    # A value within MAX_DEPTH can still meet the end of the interpreter's stack when the caller is
    # itself deep in recursion: that is the same error, said as such.
    def too_deep(e):
        m = str(e)
        if "pystack exhausted" in m or "recursion" in m:
            return ValueError("a value passed to or from the host is nested too deeply for the sandbox's stack")
        return e

    def call(module, name, args, kwargs):
        enc = bridge.enc
        try:
            request = __pyfence__.json.dumps([module, name, [enc(a) for a in args], enc(kwargs) if kwargs else None])
        except RuntimeError as e:
            raise bridge.too_deep(e)
        reply = __pyfence__.chan(request)
        if type(reply) is not str:
            raise RuntimeError("the host did not answer the call to %s.%s" % (module, name))
        reply = __pyfence__.json.loads(reply)
        if "ok" in reply:
            try:
                return bridge.dec(reply["ok"])
            except RuntimeError as e:
                raise bridge.too_deep(e)
        kind, message = reply["error"]
        raise bridge.ERRORS.get(kind, RuntimeError)(message)

    # The result of an async host function called inside a running event loop: awaitable, done.
    class Done:
        def __init__(self, value):
            self.value = value
        def __iter__(self):
            return self
        def __next__(self):
            raise StopIteration(self.value)
        def __repr__(self):
            return "<awaitable host result (await it inside async code)>"

    def function(module, name, is_async):
        call = bridge.call
        def host_function(*args, **kwargs):
            return call(module, name, args, kwargs)
        def async_host_function(*args, **kwargs):
            # Inside an event loop it behaves as a coroutine function (await it); outside, it blocks
            # and returns the value, as agent code that never awaits expects.
            value = call(module, name, args, kwargs)
            P = __pyfence__
            return bridge.Done(value) if P.asyncio is not None and P.asyncio.running() else value
        return async_host_function if is_async else host_function

    class Module:
        def __init__(self, name, functions):
            self.__name__ = name
            for f in functions:
                setattr(self, f, bridge.function(name, f, functions[f]))
        def __repr__(self):
            return "<module '%s' (host functions)>" % self.__name__
        def __getattr__(self, name):
            raise AttributeError("host module '%s' has no function '%s'" % (self.__name__, name))

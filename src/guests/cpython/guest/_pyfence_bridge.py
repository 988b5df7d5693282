# The guest half of the host-function bridge for the CPython engine: the data format of
# src/python/host-codec.ts (JSON, with one-key tags for what JSON lacks: {"$dict": {...}},
# {"$tuple": [...]}, {"$bytes": hex}, {"$int": digits}, {"$float": repr}), one request and one reply per
# call through the host channel (a device at a fixed descriptor, src/guests/cpython/host-channel.ts), and
# granted host functions as importable modules. A convenience, not a boundary: the host checks every
# request against the grant, its size, nesting and values before it calls anything.
import os
import sys
import types
from json.decoder import JSONDecoder
from json.encoder import c_make_encoder, encode_basestring_ascii

CHANNEL_FD = 1023
READ_BYTES = 1 << 16

# As host-codec.ts: nesting of lists, tuples and dicts; digits of an int.
MAX_DEPTH = 64
MAX_INT_DIGITS = 10_000
# An int with more bits has more than MAX_INT_DIGITS digits: refused before it is converted.
MAX_INT_BITS = 33_220
SAFE_INT = 2**53 - 1

ERRORS = {
    "TypeError": TypeError, "ValueError": ValueError, "KeyError": KeyError,
    "PermissionError": PermissionError, "ConnectionError": ConnectionError,
    "TimeoutError": TimeoutError, "OSError": OSError, "NotImplementedError": NotImplementedError,
    "AttributeError": AttributeError, "ImportError": ImportError,
}
DATA = "only None, bool, int, float, str, bytes, list, tuple and dict"
TOO_DEEP = "a value passed to or from the host is nested too deeply for the sandbox's stack"
INF = float("inf")

# json.dumps and json.loads without their Python-level wrappers (half of a host call's cost). Values
# are already wire values (enc): no circular check, no default, no NaN; the host's JSON has no spaces.
_encode = c_make_encoder(None, None, encode_basestring_ascii, None, ":", ",", False, False, True)
_scan = JSONDecoder().scan_once


def dumps(v):
    return "".join(_encode(v, 0))


def loads(text):
    try:
        return _scan(text, 0)[0]
    except StopIteration:
        raise ValueError("malformed answer from the host") from None


def chan(request):
    """Sends one request to the host (one write) and returns its answer (read to the end)."""
    os.write(CHANNEL_FD, request.encode("utf-8", "surrogatepass"))
    # A read fills its buffer unless the answer ends in it: a short read is the whole rest.
    part = os.read(CHANNEL_FD, READ_BYTES)
    parts = [part]
    while len(part) == READ_BYTES:
        part = os.read(CHANNEL_FD, READ_BYTES)
        parts.append(part)
    return b"".join(parts).decode("utf-8", "replace")


def _int_text(v):
    if v.bit_length() > MAX_INT_BITS:
        raise ValueError(f"an int passed to the host may have at most {MAX_INT_DIGITS} digits")
    return _without_digit_limit(str, v)


def _without_digit_limit(convert, v):
    # CPython refuses str(int) and int(str) past 4,300 digits; the bridge's own bound is MAX_INT_DIGITS.
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return convert(v)
    finally:
        sys.set_int_max_str_digits(limit)


def enc(v, depth=0, path=None):
    """A guest value to its wire form; TypeError for what is not data, ValueError past a bound."""
    if v is None or v is True or v is False:
        return v
    t = type(v)
    if t is str:
        return v
    if t is int:
        return v if -SAFE_INT <= v <= SAFE_INT else {"$int": _int_text(v)}
    if t is float:
        return {"$float": repr(v)} if v != v or v == INF or v == -INF else v
    if t is bytes or t is bytearray or t is memoryview:
        return {"$bytes": bytes(v).hex()}
    if t is list or t is tuple or t is dict:
        if depth > MAX_DEPTH:
            raise ValueError(f"a value nested more than {MAX_DEPTH} levels deep cannot be passed to the host")
        if path is None:
            path = set()
        if id(v) in path:
            raise ValueError("a cyclic value cannot be passed to the host")
        path.add(id(v))
        if t is dict:
            out = {}
            for k, x in v.items():
                if type(k) is not str:
                    raise TypeError(f"dict keys passed to the host must be str, not '{type(k).__name__}'")
                out[k] = enc(x, depth + 1, path)
            out = {"$dict": out}
        else:
            items = [enc(x, depth + 1, path) for x in v]
            out = items if t is list else {"$tuple": items}
        path.discard(id(v))
        return out
    for base in (str, int, float, list, tuple, dict, bytes):
        if isinstance(v, base):
            return enc(base(v), depth, path)
    raise TypeError(f"cannot pass '{t.__name__}' to the host ({DATA})")


def dec(v):
    """A wire value from the host to a guest value."""
    t = type(v)
    if t is list:
        return [dec(x) for x in v]
    if t is dict:
        if "$dict" in v:
            return {k: dec(x) for k, x in v["$dict"].items()}
        if "$tuple" in v:
            return tuple(dec(x) for x in v["$tuple"])
        if "$bytes" in v:
            return bytes.fromhex(v["$bytes"])
        if "$int" in v:
            return _without_digit_limit(int, v["$int"])
        if "$float" in v:
            return float(v["$float"])
    return v


def call(module, name, args, kwargs):
    """Calls a host function: its answer as data, or its error as the Python exception it names."""
    try:
        request = dumps([module, name, [enc(a) for a in args], enc(kwargs) if kwargs else None])
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    reply = loads(chan(request))
    if "ok" in reply:
        try:
            return dec(reply["ok"])
        except RecursionError:
            raise ValueError(TOO_DEEP) from None
    kind, message = reply["error"]
    raise ERRORS.get(kind, RuntimeError)(message)


async def _done(value):
    return value


def _running_loop():
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


def function(module, name, is_async):
    """A granted host function. An `async` one blocks and returns its value, or inside a running
    event loop returns an awaitable of it, as agent code that does or does not await expects."""

    def host_function(*args, **kwargs):
        return call(module, name, args, kwargs)

    def async_host_function(*args, **kwargs):
        value = call(module, name, args, kwargs)
        return _done(value) if _running_loop() else value

    f = async_host_function if is_async else host_function
    f.__name__ = f.__qualname__ = name
    f.__module__ = module
    return f


class HostModule(types.ModuleType):
    """A module of granted host functions (`import weather; weather.forecast("Oslo")`)."""

    def __init__(self, name, functions):
        super().__init__(name)
        for f, is_async in functions.items():
            setattr(self, f, function(name, f, is_async))

    def __getattr__(self, name):
        raise AttributeError(f"host module '{self.__name__}' has no function '{name}'")

    def __repr__(self):
        return f"<module '{self.__name__}' (host functions)>"

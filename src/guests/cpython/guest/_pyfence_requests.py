# The guest's `requests` module for the CPython engine (the subset agent code uses), importable only
# in sandboxes with a network grant. Every request is one host call, `__net__.request`; the host checks
# the allow list on every hop of a redirect chain, pins the address it checked and caps size and time
# (src/python/net/). The same subset and behaviour as MicroPython sandboxes get (src/python/requests-module.ts).
# Nothing here is a security boundary.
import base64
import json as _json
import sys
import types
from urllib.parse import urlencode

from _pyfence_bridge import call

__version__ = "2.x (pyfence subset)"


class RequestException(OSError):
    def __init__(self, *args, response=None):
        super().__init__(*args)
        self.response = response


class ConnectionError(RequestException):
    pass


class Timeout(RequestException):
    pass


class HTTPError(RequestException):
    pass


class TooManyRedirects(RequestException):
    pass


class InvalidURL(RequestException):
    pass


class ResponseTooLarge(RequestException):
    pass


ReadTimeout = ConnectTimeout = Timeout
ERRORS = {"TimeoutError": Timeout, "ConnectionError": ConnectionError, "InvalidURL": InvalidURL,
          "TooLarge": ResponseTooLarge, "PermissionError": PermissionError}

# `requests.exceptions` (importable too: `from requests.exceptions import HTTPError`).
exceptions = types.ModuleType("requests.exceptions")
for _e in (RequestException, ConnectionError, Timeout, HTTPError, TooManyRedirects, InvalidURL, ResponseTooLarge):
    setattr(exceptions, _e.__name__, _e)
exceptions.ReadTimeout = exceptions.ConnectTimeout = Timeout
utils = exceptions


def _pairs(data):
    for k, v in data.items() if isinstance(data, dict) else data:
        if isinstance(v, (list, tuple)):
            yield from ((k, x) for x in v)
        elif v is not None:
            yield k, v


def _form(data):
    return urlencode(list(_pairs(data)))


class CaseInsensitiveDict:
    def __init__(self, items=()):
        self._d = {}
        for k, v in items:
            lk = k.lower()
            self._d[lk] = (k, self._d[lk][1] + ", " + v) if lk in self._d else (k, v)

    def __getitem__(self, key):
        return self._d[key.lower()][1]

    def __setitem__(self, key, value):
        self._d[key.lower()] = (key, value)

    def __contains__(self, key):
        return key.lower() in self._d

    def get(self, key, default=None):
        kv = self._d.get(key.lower())
        return default if kv is None else kv[1]

    def keys(self):
        return [k for k, v in self._d.values()]

    def values(self):
        return [v for k, v in self._d.values()]

    def items(self):
        return list(self._d.values())

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._d)

    def __repr__(self):
        return repr(dict(self._d.values()))


class Response:
    def __init__(self, r):
        self.status_code = r["status"]
        self.reason = r["reason"]
        self.url = r["url"]
        self.headers = CaseInsensitiveDict(r["headers"])
        self.content = r["body"]
        self.encoding = "utf-8"
        self.history = []

    @property
    def ok(self):
        return self.status_code < 400

    @property
    def text(self):
        return self.content.decode(self.encoding or "utf-8", "replace")

    def json(self, **kwargs):
        return _json.loads(self.text, **kwargs)

    def raise_for_status(self):
        if 400 <= self.status_code < 600:
            side = "Client" if self.status_code < 500 else "Server"
            raise HTTPError(f"{self.status_code} {side} Error: {self.reason} for url: {self.url}", response=self)

    def iter_content(self, chunk_size=1, decode_unicode=False):
        data = self.text if decode_unicode else self.content
        step = chunk_size or len(data) or 1
        for i in range(0, len(data), step):
            yield data[i:i + step]

    def iter_lines(self, decode_unicode=False):
        for line in self.content.split(b"\n"):
            yield line.decode() if decode_unicode else line

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return f"<Response [{self.status_code}]>"


def request(method, url, params=None, data=None, headers=None, json=None, timeout=None,
            allow_redirects=True, auth=None, files=None, **ignored):
    if files:
        raise NotImplementedError("file uploads are not supported in this sandbox")
    url = str(url)
    if params:
        query = params if isinstance(params, str) else _form(params)
        url = url + ("&" if "?" in url else "?") + query
    hdrs = {"User-Agent": "python-requests (pyfence)", "Accept": "*/*"}
    body = None
    if json is not None:
        body = _json.dumps(json).encode()
        hdrs["Content-Type"] = "application/json"
    elif data is not None:
        if isinstance(data, (dict, list, tuple)):
            body = _form(data).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(data, str):
            body = data.encode()
        else:
            body = bytes(data)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        hdrs["Authorization"] = "Basic " + token
    for k, v in (headers or {}).items():
        if v is not None:
            hdrs[k] = str(v)
    if isinstance(timeout, (tuple, list)):
        timeout = sum(t for t in timeout if t is not None) or None
    r = call("__net__", "request", ({"method": method.upper(), "url": url, "headers": hdrs, "body": body,
                                     "timeout": timeout, "allow_redirects": bool(allow_redirects)},), None)
    if "error" in r:
        kind, message = r["error"]
        raise ERRORS.get(kind, RequestException)(message)
    return Response(r)


def _verb(method):
    def send(url, **kwargs):
        return request(method, url, **kwargs)
    send.__name__ = method.lower()
    return send


get, post, put, patch, delete, options = (_verb(m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def head(url, **kwargs):
    kwargs.setdefault("allow_redirects", False)
    return request("HEAD", url, **kwargs)


class Session:
    def __init__(self):
        self.headers = {}
        self.params = {}
        self.auth = None

    def request(self, method, url, **kwargs):
        h = dict(self.headers)
        h.update(kwargs.pop("headers", None) or {})
        if self.params and "params" not in kwargs:
            kwargs["params"] = self.params
        if self.auth and "auth" not in kwargs:
            kwargs["auth"] = self.auth
        return request(method, url, headers=h, **kwargs)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def head(self, url, **kw):
        kw.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kw)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


session = Session


class codes:
    ok = 200
    created = 201
    no_content = 204
    not_found = 404


# The guest's `requests` module (the subset agent code uses), for both Python engines: MicroPython
# compiles it on first use in a sandbox with a network grant (src/python/prelude.ts), CPython loads it
# as `_pyfence_requests_factory` (src/guests/cpython/guest/_pyfence_requests.py). Written in what both
# interpreters run. Every request is one host call, `__net__.request`, through `call` (the engine's
# bridge); the host checks the allow list on every hop, pins the address it checked and caps size and
# time (src/python/net/). Nothing here is a security boundary.
def make_requests(call):
    import json as _json
    from binascii import b2a_base64

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
    ERRORS = {"TimeoutError": Timeout, "ConnectionError": ConnectionError, "InvalidURL": InvalidURL,
              "TooLarge": ResponseTooLarge, "PermissionError": PermissionError}

    class exceptions:
        pass
    for e in (RequestException, ConnectionError, Timeout, HTTPError, TooManyRedirects, InvalidURL, ResponseTooLarge):
        setattr(exceptions, e.__name__, e)
    exceptions.ReadTimeout = exceptions.ConnectTimeout = Timeout

    UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    def quote(value, plus=True):
        out = []
        for b in str(value).encode():
            if b in UNRESERVED:
                out.append(chr(b))
            elif b == 32 and plus:
                out.append("+")
            else:
                out.append("%%%02X" % b)
        return "".join(out)

    def pairs(data):
        items = data.items() if isinstance(data, dict) else data
        for k, v in items:
            if isinstance(v, (list, tuple)):
                for x in v:
                    yield k, x
            elif v is not None:
                yield k, v

    def urlencode(data):
        return "&".join(quote(k) + "=" + quote(v) for k, v in pairs(data))

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
        def __init__(self, r, request_url):
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
            try:
                return self.content.decode(self.encoding or "utf-8")
            except UnicodeError:
                return "".join(chr(b) for b in self.content)
        def json(self, **kwargs):
            # MicroPython's json.loads takes no options.
            return _json.loads(self.text, **kwargs) if kwargs else _json.loads(self.text)
        def raise_for_status(self):
            if 400 <= self.status_code < 600:
                side = "Client" if self.status_code < 500 else "Server"
                raise HTTPError("%d %s Error: %s for url: %s" % (self.status_code, side, self.reason, self.url), response=self)
        def iter_content(self, chunk_size=1, decode_unicode=False):
            data = self.text if decode_unicode else self.content
            for i in range(0, len(data), chunk_size or len(data) or 1):
                yield data[i:i + (chunk_size or len(data))]
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
            return "<Response [%d]>" % self.status_code

    def send_request(method, url, params=None, data=None, headers=None, json=None, timeout=None,
                allow_redirects=True, auth=None, files=None, **ignored):
        if files:
            raise NotImplementedError("file uploads are not supported in this sandbox")
        url = str(url)
        if params:
            query = params if isinstance(params, str) else urlencode(params)
            url = url + ("&" if "?" in url else "?") + query
        hdrs = {"User-Agent": "python-requests (pyfence)", "Accept": "*/*"}
        body = None
        if json is not None:
            body = _json.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        elif data is not None:
            if isinstance(data, (dict, list, tuple)):
                body = urlencode(data).encode()
                hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            elif isinstance(data, str):
                body = data.encode()
            else:
                body = bytes(data)
        if auth is not None:
            token = b2a_base64(("%s:%s" % (auth[0], auth[1])).encode()).decode().strip()
            hdrs["Authorization"] = "Basic " + token
        for k in headers or {}:
            if headers[k] is not None:
                hdrs[k] = str(headers[k])
        if isinstance(timeout, (tuple, list)):
            timeout = sum(t for t in timeout if t is not None) or None
        r = call("__net__", "request", ({"method": method.upper(), "url": url, "headers": hdrs, "body": body,
                                        "timeout": timeout, "allow_redirects": bool(allow_redirects)},), None)
        if "error" in r:
            kind, message = r["error"]
            raise ERRORS.get(kind, RequestException)(message)
        return Response(r, url)

    def verb(method):
        def send(url, **kwargs):
            return send_request(method, url, **kwargs)
        return send

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
            return send_request(method, url, headers=h, **kwargs)
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

    class requests:
        __name__ = "requests"
        __version__ = "2.x (pyfence subset)"
        def __repr__(self):
            return "<module 'requests' (pyfence)>"
    module = requests()
    for name in ("get", "post", "put", "patch", "delete", "options"):
        setattr(module, name, verb(name.upper()))
    def head(url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return send_request("HEAD", url, **kwargs)
    module.head = head
    module.request = send_request
    module.Session = module.session = Session
    module.Response = Response
    module.exceptions = exceptions
    module.utils = exceptions
    for e in (RequestException, ConnectionError, Timeout, HTTPError, TooManyRedirects, InvalidURL, ResponseTooLarge):
        setattr(module, e.__name__, e)
    module.ReadTimeout = module.ConnectTimeout = Timeout
    class codes:
        ok = 200
        created = 201
        no_content = 204
        not_found = 404
    module.codes = codes
    return module

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Sandbox, UsageError } from '../src/index.js';

// The server runs in its own thread: an inline sandbox blocks the main thread while it waits.
const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (status, body, headers = {}) => { res.writeHead(status, headers); res.end(body); };
  switch (url.pathname) {
    case '/json': return send(200, JSON.stringify({ hello: 'world', query: url.search, auth: req.headers.authorization ?? null }), { 'content-type': 'application/json' });
    case '/echo': { let b = ''; req.on('data', (c) => (b += c)); return req.on('end', () => send(200, JSON.stringify({ method: req.method, body: b, type: req.headers['content-type'] ?? null }))); }
    case '/to-json': return send(302, '', { location: '/json?via=redirect' });
    case '/to-named': return send(302, '', { location: 'http://localhost:' + url.searchParams.get('port') + '/json' });
    case '/to-outside': return send(302, '', { location: 'http://pyfence-denied.example/' });
    case '/to-other-port': return send(307, '', { location: 'http://127.0.0.1:' + url.searchParams.get('port') + '/json' });
    case '/big': return send(200, Buffer.alloc(300 * 1024, 97));
    case '/big-chunked': { res.writeHead(200); for (let i = 0; i < 300; i++) res.write(Buffer.alloc(1024, 98)); return res.end(); }
    case '/slow': return setTimeout(() => send(200, 'late'), 3000);
    case '/status': return send(Number(url.searchParams.get('code')), 'status body');
    default: return send(404, 'not here');
  }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

function startServer(): Promise<{ port: number; stop: () => Promise<number> }> {
  const worker = new Worker(SERVER, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (port: number) => resolve({ port, stop: () => worker.terminate() }));
  });
}

describe('network grant and requests', () => {
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>; // a second server, on a port that is not granted
  before(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  for (const isolation of ['inline', 'worker'] as const) {
    it(`performs allowed requests (${isolation})`, async () => {
      const sb = await Sandbox.create({ isolation, net: { allow: [`127.0.0.1:${a.port}`] } });
      const r = await sb.run(`
import requests
base = "http://127.0.0.1:${a.port}"
r = requests.get(base + "/json", params={"q": "a b&c", "n": [1, 2]}, auth=("user", "pw"))
print(r.status_code, r.ok, r.headers["content-type"], r.json()["hello"], r.json()["query"], r.json()["auth"])
print(requests.get(base + "/to-json").json()["query"])
print(sorted(requests.post(base + "/echo", json={"x": [1, 2.5, None]}).json().items()))
print(sorted(requests.put(base + "/echo", data={"k": "v w"}).json().items()))
print(requests.delete(base + "/echo").json()["method"], requests.head(base + "/json").status_code)
s = requests.Session()
s.headers["Authorization"] = "Bearer t"
print(s.get(base + "/json").json()["auth"])
r = requests.get(base + "/status?code=503")
print(r.status_code, r.ok, r.text)
try:
    r.raise_for_status()
except requests.HTTPError as e:
    print("HTTPError", e.response.status_code)
`);
      r.throwIfError();
      assert.equal(
        r.stdout,
        '200 True application/json world ?q=a+b%26c&n=1&n=2 Basic dXNlcjpwdw==\n' +
          '?via=redirect\n' +
          "[('body', '{\"x\": [1, 2.5, null]}'), ('method', 'POST'), ('type', 'application/json')]\n" +
          "[('body', 'k=v+w'), ('method', 'PUT'), ('type', 'application/x-www-form-urlencoded')]\n" +
          'DELETE 200\nBearer t\n503 False status body\nHTTPError 503\n',
      );
      sb.dispose();
    });

    it(`refuses hosts, ports, schemes and redirects off the list (${isolation})`, async () => {
      const sb = await Sandbox.create({ isolation, net: { allow: [`127.0.0.1:${a.port}`] } });
      const r = await sb.run(`
import requests
base = "http://127.0.0.1:${a.port}"
for url in ("http://127.0.0.1:${b.port}/json", "http://localhost:${a.port}/json", "http://pyfence-denied.example/",
            "http://[::1]:${a.port}/json", "file:///etc/passwd", "ftp://127.0.0.1:${a.port}/",
            base + "/to-outside", base + "/to-other-port?port=${b.port}"):
    try:
        requests.get(url)
        print("ALLOWED", url)
    except PermissionError as e:
        print("denied", e)
requests.get("http://127.0.0.1:${b.port}/json")
`);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 8, r.stdout);
      for (const line of lines) assert.match(line, /^denied network access (to|with scheme) /);
      assert.match(lines[0], new RegExp(`to 127\\.0\\.0\\.1:${b.port} is not allowed`));
      assert.match(lines[6], /pyfence-denied\.example:80/);
      assert.equal(r.error?.kind, 'denied');
      assert.equal(r.error?.type, 'PermissionError');
      assert.match(r.error!.message, new RegExp(`127\\.0\\.0\\.1:${b.port}`));
      sb.dispose();
    });

    it(`caps response size and time (${isolation})`, async () => {
      const sb = await Sandbox.create({ isolation, net: { allow: [`127.0.0.1:${a.port}`], maxResponseBytes: 100 * 1024, timeoutMs: 5000 } });
      const r = await sb.run(`
import requests
base = "http://127.0.0.1:${a.port}"
for path in ("/big", "/big-chunked"):
    try:
        requests.get(base + path)
    except requests.RequestException as e:
        print(type(e).__name__, e)
try:
    requests.get(base + "/slow", timeout=0.3)
except requests.Timeout as e:
    print("Timeout")
`);
      r.throwIfError();
      assert.equal(
        r.stdout,
        `ResponseTooLarge the response from 127.0.0.1:${a.port} is larger than the limit of 102400 bytes\n`.repeat(2) + 'Timeout\n',
      );
      sb.dispose();
    });
  }

  for (const isolation of ['inline', 'worker'] as const) {
    it(`refuses a granted name that resolves to a loopback address unless the address is granted (${isolation})`, async () => {
      const program = `
import requests
for url in ("http://localhost:${a.port}/json", "http://127.0.0.1:${a.port}/to-named?port=${a.port}"):
    try:
        print(requests.get(url).json()["hello"])
    except PermissionError as e:
        print("denied", e)
`;
      const byName = await Sandbox.create({ isolation, net: { allow: [`localhost:${a.port}`] } });
      const r = await byName.run(program);
      byName.dispose();
      assert.match(r.stdout, new RegExp(`^denied network access to localhost:${a.port} is not allowed in this sandbox: it resolves to (127\\.0\\.0\\.1|::1) \\(loopback\\)`));
      const named = await Sandbox.create({ isolation, net: { allow: [`localhost:${a.port}`, `127.0.0.1:${a.port}`] } });
      const ok = await named.run(program);
      named.dispose();
      assert.equal(ok.stdout, 'world\nworld\n');
    });
  }

  it('connects to the address that was checked, never resolving the name again', async () => {
    const { exchange } = await import('../src/capabilities/net/pinned-connection.js');
    // A name that cannot resolve: the exchange reaches the server only through the pinned address.
    const url = new URL(`http://pinned.invalid:${a.port}/json`);
    const res = await exchange(url, { address: '127.0.0.1', family: 4 }, { method: 'GET', headers: {}, body: null, signal: AbortSignal.timeout(10_000) });
    let text = '';
    for await (const chunk of res) text += chunk;
    assert.equal(JSON.parse(text).hello, 'world');
  });

  it('classifies special addresses, including IPv4 inside IPv6', async () => {
    const { specialAddressKind } = await import('../src/capabilities/net/address-ranges.js');
    const special = ['127.0.0.1', '10.1.2.3', '172.31.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
      '255.255.255.255', '::1', '::', 'fd00:ec2::254', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '64:ff9b::a9fe:a9fe', '2002:a00:1::'];
    for (const a of special) assert.notEqual(specialAddressKind(a), null, a);
    for (const a of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) assert.equal(specialAddressKind(a), null, a);
  });

  it('has no requests module without a grant, and says why', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run('import requests');
    assert.equal(r.error?.type, 'ImportError');
    assert.equal(r.error?.kind, 'denied');
    assert.match(r.error!.message, /network access is not granted to this sandbox/);
    sb.dispose();
  });

  it('counts a request against the run deadline', async () => {
    const sb = await Sandbox.create({ net: { allow: [`127.0.0.1:${a.port}`] } });
    const r = await sb.run(`import requests\nrequests.get("http://127.0.0.1:${a.port}/slow")`, { limits: { timeoutMs: 300 } });
    assert.equal(r.error?.kind, 'timeout');
    sb.dispose();
  });

  it('matches wildcard and default-port rules exactly', async () => {
    const { deniedReason, resolveNetGrant } = await import('../src/capabilities/net/allow-list.js');
    const p = resolveNetGrant({ allow: ['api.example.com', '*.example.org', '127.0.0.1:8080', '[::1]:3000'] })!;
    const ok = (u: string) => deniedReason(p, new URL(u)) === null;
    assert.ok(ok('https://api.example.com/x') && ok('http://api.example.com/') && ok('https://API.Example.com'));
    assert.ok(!ok('https://api.example.com:8443/') && !ok('https://evil-api.example.com/') && !ok('https://api.example.com.evil.net/'));
    assert.ok(ok('https://a.example.org/') && ok('https://a.b.example.org/') && !ok('https://example.org/') && !ok('https://badexample.org/'));
    assert.ok(ok('http://127.0.0.1:8080/') && !ok('http://127.0.0.1/') && !ok('http://127.0.0.2:8080/'));
    assert.ok(ok('http://[::1]:3000/') && !ok('http://[::1]:3001/'));
    // Other spellings of an address are normalised before the check, not compared as text.
    assert.ok(ok('http://0x7f.0.0.1:8080/') && ok('http://2130706433:8080/'));
    assert.throws(() => resolveNetGrant({ allow: ['http://x.com'] }), UsageError);
    assert.throws(() => resolveNetGrant({ allow: ['x.com/path'] }), UsageError);
    assert.throws(() => resolveNetGrant({ allow: 'x.com' }), UsageError);
    assert.throws(() => resolveNetGrant({ allow: [], extra: 1 }), UsageError);
    await assert.rejects(Sandbox.create({ net: { allow: ['x.com:99999'] } }), UsageError);
  });
});

// `pyfence serve` as a real process on loopback, exercised with real HTTP requests.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { cliAsync, tempDir } from './helpers.js';
import { rawStatus, startCli, type Started } from './process-helpers.js';

const TOKEN = 'test-token-7f3a';
const data = tempDir('serve');
writeFileSync(join(data, 'in.txt'), 'from the host\n');

describe('pyfence serve', () => {
  let server: Started;
  let url: string;
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const token = init.token === undefined ? TOKEN : init.token;
    const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    return fetch(url + path, { ...init, headers: { ...headers, ...(init.headers as object) } });
  };
  const post = (path: string, body: unknown, token?: string | null) => call(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), token });

  before(async () => {
    server = await startCli(
      ['serve', '--port', '0', '--token', TOKEN, '--concurrency', '1', '--max-queue', '1', '--timeout', '5s', '--max-body', '64KiB', '--mount', `${data}:/data`],
      /listening on (http:\S+)/,
    );
    url = server.match[1];
  });
  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('answers /healthz without a token and refuses everything else without the right one (401)', async () => {
    assert.equal((await call('/healthz', { token: null })).status, 200);
    for (const token of [null, 'wrong', TOKEN + 'x']) {
      const r = await post('/v1/run', { code: 'print(1)' }, token);
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await r.json()).error.type, 'unauthorized');
    }
    assert.equal((await call('/openapi.json', { token: null })).status, 401);
  });

  it('runs code and returns the result JSON; a Python error is a result, not an HTTP error', async () => {
    const ok = await post('/v1/run', { code: 'print(6 * 7)' });
    assert.equal(ok.status, 200);
    const r = await ok.json();
    assert.equal(r.ok, true);
    assert.equal(r.stdout, '42\n');
    assert.ok(r.usage.fuel > 0);
    const bad = await (await post('/v1/run', { code: 'raise KeyError("k")' })).json();
    assert.equal(bad.ok, false);
    assert.equal(bad.error.kind, 'python');
    assert.match(bad.error.traceback, /KeyError: k/);
  });

  it('stops hostile code with the server limits, and a request may lower them but not raise them', async () => {
    const loop = await (await post('/v1/run', { code: 'while True: pass', limits: { fuel: 5_000_000 } })).json();
    assert.equal(loop.error.kind, 'fuel');
    const raised = await post('/v1/run', { code: 'print(1)', limits: { timeoutMs: 60_000 } });
    assert.equal(raised.status, 400);
    assert.match((await raised.json()).error.message, /timeoutMs may not exceed the server's limit of 5000/);
  });

  it('gives files to a run, reads the granted mount, and refuses request files inside the mount', async () => {
    const r = await (await post('/v1/run', { code: 'print(open("/in/a.txt").read() + open("/data/in.txt").read())', files: { '/in/a.txt': 'given ' } })).json();
    assert.equal(r.stdout, 'given from the host\n\n');
    const shadow = await post('/v1/run', { code: 'print(1)', files: { '/data/../data/in.txt': 'x' } });
    assert.equal(shadow.status, 400);
    assert.match((await shadow.json()).error.message, /inside a mounted directory/);
  });

  it('answers malformed JSON and bodies that miss the schema with 400 and a JSON error', async () => {
    for (const body of ['{"code": ', 'null', '{"code": 5}', '{"code": "x", "grants": {"net": "*"}}', '{"code": "x", "limits": {"fuel": -1}}']) {
      const r = await post('/v1/run', body);
      assert.equal(r.status, 400, body);
      assert.equal((await r.json()).error.type, 'bad_request');
    }
  });

  it('keeps web pages out: no run without Content-Type: application/json (415), no DNS-rebound Host (403)', async () => {
    const plain = await call('/v1/run', { method: 'POST', body: JSON.stringify({ code: 'print(1)' }), headers: { 'content-type': 'text/plain' } });
    assert.equal(plain.status, 415);
    assert.equal((await rawStatus(url, '/healthz', 'evil.example:80')), 403);
    assert.equal((await rawStatus(url, '/healthz', `localhost:${new URL(url).port}`)), 200);
  });

  it('refuses a body over --max-body with 413', async () => {
    const r = await post('/v1/run', { code: `s = "${'a'.repeat(70 * 1024)}"` });
    assert.equal(r.status, 413);
    assert.equal((await r.json()).error.type, 'too_large');
  });

  it('keeps a session across requests, exports its snapshot and closes it', async () => {
    const created = await post('/v1/sessions', { files: { '/notes.txt': 'n' } });
    assert.equal(created.status, 201);
    const { id } = await created.json();
    await post(`/v1/sessions/${id}/run`, { code: 'x = 41' });
    const r = await (await post(`/v1/sessions/${id}/run`, { code: 'x += 1\nprint(x, open("/notes.txt").read())' })).json();
    assert.equal(r.stdout, '42 n\n');
    const snap = await call(`/v1/sessions/${id}/snapshot`);
    assert.equal(snap.headers.get('content-type'), 'application/octet-stream');
    const restored = await Sandbox.restore(new Uint8Array(await snap.arrayBuffer()));
    assert.equal((await restored.run('print(x)')).stdout, '42\n');
    restored.dispose();
    assert.equal((await call(`/v1/sessions/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await post(`/v1/sessions/${id}/run`, { code: 'print(x)' })).status, 404);
  });

  it('publishes /openapi.json from the schemas', async () => {
    const doc = await (await call('/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    const run = doc.components.schemas.RunRequest;
    for (const field of ['code', 'engine', 'wat', 'wasm_base64', 'args', 'stdin', 'files', 'limits']) assert.ok(run.properties[field], field);
    assert.deepEqual(run.properties.engine.enum, ['micropython'], 'only the engines this server enables');
    assert.match(run.properties.code.description, /MicroPython 1\.27/);
  });

  it('answers 429 with Retry-After past the queue (1 running + 1 waiting)', async () => {
    const slow = { code: 'import time\ntime.sleep(1)\nprint("done")' };
    const responses = await Promise.all([post('/v1/run', slow), post('/v1/run', slow), post('/v1/run', slow)]);
    const statuses = responses.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 429]);
    const refused = responses.find((r) => r.status === 429)!;
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await refused.json()).error.type, 'overloaded');
    for (const r of responses.filter((x) => x.status === 200)) assert.equal((await r.json()).stdout, 'done\n');
  });

  it('finishes the run in progress on SIGTERM, then exits 0', async () => {
    const running = post('/v1/run', { code: 'import time\ntime.sleep(1)\nprint("finished")' });
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    const r = await running;
    assert.equal(r.status, 200);
    assert.equal((await r.json()).stdout, 'finished\n');
    assert.equal(await server.exited, 0);
  });
});

describe('pyfence serve: refusing to start', () => {
  it('exits 2 off loopback without a token, on bad flag values, and on a port in use', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const [open, ...rest] = await Promise.all([
      cliAsync(['serve', '--port', '0', '--host', '0.0.0.0']),
      cliAsync(['serve', '--port', String((taken.address() as AddressInfo).port)]),
      cliAsync(['serve', '--port', '70000']),
      cliAsync(['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0']),
      cliAsync(['mcp', '--session-idle', 'soon']),
    ]);
    taken.close();
    assert.equal(open.status, 2, open.stderr);
    assert.match(open.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
    const [inUse, ...flags] = rest;
    assert.equal(inUse.status, 2, inUse.stderr);
    assert.match(inUse.stderr, /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    for (const r of flags) {
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /is invalid/);
    }
  });
});

// `pyfence serve --engines micropython,cpython`: one request schema for every engine. POST /v1/run
// runs Python on the engine the request names (among those enabled) or a WebAssembly module, and a
// request's own files reach only its run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCli, type Started } from './process-helpers.js';
import { HELLO_WAT } from './support/hello-wat.js';

describe('pyfence serve with two engines', () => {
  let server: Started;
  let url: string;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };

  before(async () => {
    server = await startCli(['serve', '--port', '0', '--engines', 'micropython,cpython', '--concurrency', '1', '--timeout', '20s'], /listening on (http:\S+)/);
    url = server.match[1];
  });
  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('runs Python on the default engine, or on the one a request names', async () => {
    const code = 'import sys\nprint(sys.implementation.name)';
    const micro = await post('/v1/run', { code });
    assert.equal(micro.status, 200);
    assert.equal(micro.body.stdout, 'micropython\n');
    assert.equal(micro.body.engine, 'micropython');
    const cpython = await post('/v1/run', { code, engine: 'cpython' });
    assert.equal(cpython.status, 200, JSON.stringify(cpython.body));
    assert.equal(cpython.body.stdout, 'cpython\n');
    assert.equal(cpython.body.engine, 'cpython');
  });

  it("answers the last expression's value as data and as Python shows it, on either engine", async () => {
    for (const engine of ['micropython', 'cpython']) {
      const simple = await post('/v1/run', { code: 'x = 20\nx * 2 + 2', engine });
      assert.equal(simple.body.value, 42, JSON.stringify(simple.body));
      assert.equal(simple.body.valueRepr, '42');
      const mixed = await post('/v1/run', { code: `(1, b"a'\\n", 2**70, {"k": [None, True, "it's"]})`, engine });
      assert.deepEqual(mixed.body.value, [1, Buffer.from("a'\n").toString('base64'), '1180591620717411303424', { k: [null, true, "it's"] }], engine);
      assert.equal(mixed.body.valueRepr, `(1, b'a\\'\\n', 1180591620717411303424, {'k': [None, True, "it's"]})`, engine);
      const none = await post('/v1/run', { code: 'print("x")\nNone', engine });
      assert.equal('value' in none.body, false);
      const fn = await post('/v1/run', { code: 'def f():\n    pass\nf', engine });
      assert.equal('value' in fn.body, false);
      assert.match(fn.body.valueError, /cannot leave the sandbox/, engine);
    }
  });

  it('answers the files a run wrote under /out/ as base64, on either engine', async () => {
    for (const engine of ['micropython', 'cpython']) {
      const r = await post('/v1/run', { code: 'open("/out/a.json", "w").write("[1]")\nopen("/out/b.bin", "wb").write(bytes([0, 200]))', engine });
      assert.deepEqual(r.body.files, [
        { path: '/out/a.json', bytes: 3, mimeType: 'application/json', base64: Buffer.from('[1]').toString('base64') },
        { path: '/out/b.bin', bytes: 2, mimeType: 'application/octet-stream', base64: Buffer.from([0, 200]).toString('base64') },
      ], engine);
      const none = await post('/v1/run', { code: 'print(1)', engine });
      assert.equal('files' in none.body, false);
    }
  });

  it('runs a WebAssembly module given as wat, with its stdout and exit code', async () => {
    const r = await post('/v1/run', { wat: HELLO_WAT });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.stdout, 'hello from wat\n');
    assert.equal(r.body.engine, 'wasm');
    assert.equal(r.body.exitCode, 0);
  });

  it('streams a run as NDJSON: output lines as the program writes them, then the result', async () => {
    const r = await fetch(url + '/v1/run/stream', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'import time\nfor i in range(4):\n    print("tick", i)\n    time.sleep(0.4)\n"end"' }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/x-ndjson');
    const reads: string[] = [];
    const decoder = new TextDecoder();
    for await (const chunk of r.body!) reads.push(decoder.decode(chunk, { stream: true }));
    const lines = reads.join('').trimEnd().split('\n').map((l) => JSON.parse(l));
    const result = lines.at(-1);
    assert.equal(result.type, 'result');
    assert.equal(result.result.stdout, 'tick 0\ntick 1\ntick 2\ntick 3\n');
    assert.equal(result.result.value, 'end');
    const output = lines.slice(0, -1);
    assert.ok(output.every((l) => l.type === 'stdout'), JSON.stringify(output));
    assert.equal(output.map((l) => l.text).join(''), result.result.stdout);
    assert.ok(!reads[0].includes('"result"'), 'the first output arrived before the result, in its own read');

    const wat = await fetch(url + '/v1/run/stream', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ wat: HELLO_WAT }) });
    const watLines = (await wat.text()).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(watLines[0], { type: 'stdout', text: 'hello from wat\n' });
    assert.equal(watLines.at(-1).result.exitCode, 0);

    for (const body of [{ code: 'print(1)', engine: 'pypy' }, { code: 'x', wat: HELLO_WAT }, { wat: '(module', args: 'x' }]) {
      const bad = await post('/v1/run/stream', body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(typeof bad.body.error.message, 'string');
    }
    // A module is compiled once its run has a slot: a bad one ends the stream with an error line.
    const broken = await fetch(url + '/v1/run/stream', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ wat: '(module (func' }) });
    const last = JSON.parse((await broken.text()).trimEnd().split('\n').at(-1)!);
    assert.equal(last.type, 'error');
    assert.equal(last.status, 400);
    assert.equal(last.error.type, 'invalid_module');
  });

  it('refuses a request with no program, two programs, or fields of the other kind (400)', async () => {
    for (const [body, message] of [
      [{}, /exactly one of code \(Python\), wat or wasm_base64/],
      [{ code: 'print(1)', wat: HELLO_WAT }, /got code and wat/],
      [{ code: 'print(1)', stdin: 'x' }, /stdin: only for a WebAssembly module/],
      [{ wat: HELLO_WAT, engine: 'cpython' }, /engine: only for Python code/],
      [{ code: 'print(1)', engine: 'pypy' }, /engine/],
    ] as const) {
      const r = await post('/v1/run', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.error.message, message);
    }
  });

  it("gives a request's files to its run only, on either engine (the next run on the same worker has none)", async () => {
    for (const engine of ['micropython', 'cpython']) {
      const given = await post('/v1/run', { code: 'print(open("/in/a.txt").read())', engine, files: { '/in/a.txt': 'mine' } });
      assert.equal(given.body.stdout, 'mine\n', JSON.stringify(given.body));
      const next = await post('/v1/run', { code: 'import os\ntry:\n    open("/in/a.txt")\n    print("leaked")\nexcept OSError:\n    print("gone")', engine });
      assert.equal(next.body.stdout, 'gone\n', JSON.stringify(next.body));
    }
  });
});

// The run result's audit: what the host refused the guest during the run, each event decided on the
// host side (a guest cannot add one by printing or raising the same text), bounded in size.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Sandbox, type AuditEvent, type RunResult } from '../src/index.js';
import { MAX_REQUEST_BYTES } from '../src/capabilities/host-call-gate.js';
import { RunResultSchema } from '../src/servers/core/schemas.js';
import { describeResult } from '../src/servers/core/describe-result.js';
import { cli, tempDir } from './helpers.js';

const RAW = (payload: string) => `print(__pyfence__.chan(${JSON.stringify(payload)}))`;
const ISOLATIONS = ['inline', 'worker'] as const;

function kinds(r: RunResult): string[] {
  return r.audit.events.map((e) => e.kind);
}

async function runIn(options: Parameters<typeof Sandbox.create>[0], code: string): Promise<RunResult> {
  const sb = await Sandbox.create(options);
  try {
    return await sb.run(code);
  } finally {
    sb.dispose();
  }
}

/** A host directory to mount: a file, and links that stay in or lead out of it. */
function mountTree(): { root: string; mount: string } {
  const root = tempDir('audit');
  const mount = join(root, 'mount');
  mkdirSync(mount);
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'secret.txt'), 'secret');
  writeFileSync(join(mount, 'a.txt'), 'a');
  symlinkSync('a.txt', join(mount, 'link-in'));
  symlinkSync('../outside/secret.txt', join(mount, 'link-out'));
  return { root, mount };
}

describe('audit: a clean run', () => {
  for (const isolation of ISOLATIONS) {
    it(`has an empty audit, and ordinary failures are not refusals (${isolation})`, async () => {
      const { mount } = mountTree();
      const r = await runIn(
        { isolation, modules: { m: { f: () => 1, boom: () => { throw new Error('host says no'); } } }, mounts: [{ host: mount, guest: '/data', mode: 'ro' }] },
        `
import m, json
print(m.f(), open('/data/a.txt').read(), open('/data/link-in').read())
for call in (lambda: open('/nope.txt'), lambda: open('/data/missing'), m.boom, lambda: __import__('no_such_module')):
    try:
        call()
    except Exception as e:
        print(type(e).__name__)
`,
      );
      r.throwIfError();
      assert.equal(r.stdout, '1 a a\nOSError\nOSError\nRuntimeError\nImportError\n');
      assert.deepEqual(r.audit, { events: [], dropped: 0 });
      assert.deepEqual(r.toJSON().audit, { events: [], dropped: 0 });
    });
  }
});

describe('audit: denied imports', () => {
  for (const isolation of ISOLATIONS) {
    it(`records a module the policy denies (${isolation})`, async () => {
      const r = await runIn({ isolation, imports: { deny: ['re'] } }, 'import re');
      assert.equal(r.error?.kind, 'denied');
      assert.deepEqual(r.audit.events, [{ kind: 'denied-import', detail: 're' }]);
      const byDefault = await runIn({ isolation }, 'import uctypes');
      assert.deepEqual(byDefault.audit.events, [{ kind: 'denied-import', detail: 'uctypes' }]);
    });
  }

  it('does not record the same text raised by the guest for a module that is not denied', async () => {
    const r = await runIn({}, `raise ImportError("module 'json' is not allowed in this sandbox")`);
    assert.equal(r.error?.type, 'ImportError');
    assert.deepEqual(r.audit.events, []);
  });
});

describe('audit: host calls', () => {
  for (const isolation of ISOLATIONS) {
    it(`records ungranted names, oversized requests and prototype keys, refused before any host function runs (${isolation})`, async () => {
      const calls: unknown[] = [];
      const r = await runIn(
        { isolation, modules: { m: { f: (x: unknown) => (calls.push(x), 1) } }, limits: { memoryBytes: 128 << 20, timeoutMs: 60_000 } },
        `
${RAW('["m", "nothere", [], null]')}
${RAW('["other", "f", [], null]')}
print(__pyfence__.chan('["m", "f", ["' + 'x' * ${MAX_REQUEST_BYTES} + '"], null]'))
${RAW('["m", "f", [{"$dict": {"__proto__": {"$dict": {"polluted": "yes"}}}}], null]')}
import m
print(m.f(2))
`,
      );
      r.throwIfError();
      assert.deepEqual(calls, [2]);
      assert.deepEqual(kinds(r), ['host-call', 'host-call', 'host-call', 'host-call']);
      const [name, module, size, proto] = r.audit.events.map((e) => e.detail);
      assert.match(name, /host module 'm' has no function 'nothere'/);
      assert.match(module, /host module 'other' has no function 'f'/);
      assert.match(size, /at most 16777216 bytes/);
      assert.match(proto, /__proto__/);
    });
  }

  it('records a call from a sandbox with no host functions', async () => {
    const r = await runIn({}, RAW('["m", "f", [], null]'));
    assert.deepEqual(kinds(r), ['host-call']);
  });
});

// The server runs in its own thread: an inline sandbox blocks the main thread while it waits.
const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = createServer((req, res) => res.end('hello'));
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

describe('audit: network', () => {
  let server: Worker;
  let port: number;
  before(async () => {
    server = new Worker(SERVER, { eval: true });
    port = await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('message', resolve);
    });
  });
  after(async () => {
    await server.terminate();
  });

  for (const isolation of ISOLATIONS) {
    it(`records requests the allow list or the address check refuses, not granted ones (${isolation})`, async () => {
      // localhost passes the allow list but resolves to a loopback address no rule names with its port.
      const other = port === 65535 ? port - 1 : port + 1;
      const r = await runIn(
        { isolation, net: { allow: [`127.0.0.1:${port}`, `localhost:${other}`] } },
        `
import requests
print(requests.get("http://127.0.0.1:${port}/").text)
for url in ("http://127.0.0.2:${port}/", "http://localhost:${other}/", "ftp://127.0.0.1:${port}/"):
    try:
        requests.get(url)
    except PermissionError as e:
        print(type(e).__name__)
`,
      );
      r.throwIfError();
      assert.equal(r.stdout, 'hello\nPermissionError\nPermissionError\nPermissionError\n');
      const network = r.audit.events.filter((e) => e.kind === 'network');
      assert.equal(network.length, 3, JSON.stringify(r.audit));
      assert.match(network[0].detail, /not allowed in this sandbox/);
      assert.match(network[1].detail, /localhost.*resolves to .*loopback/);
      assert.match(network[2].detail, /scheme 'ftp'/);
    });
  }
});

describe('audit: files', () => {
  for (const isolation of ISOLATIONS) {
    it(`records writes to a read-only mount and links leading out of a mount, with the path (${isolation})`, async () => {
      const { mount } = mountTree();
      const r = await runIn(
        { isolation, mounts: [{ host: mount, guest: '/data', mode: 'ro' }] },
        `
import os
for op in (lambda: open('/data/a.txt', 'w'), lambda: open('/data/new.txt', 'w'), lambda: os.mkdir('/data/d'),
           lambda: os.remove('/data/a.txt'), lambda: open('/data/link-out').read()):
    try:
        op()
    except OSError as e:
        print(e.errno)
`,
      );
      r.throwIfError();
      assert.equal(r.stdout, '13\n13\n13\n13\n13\n');
      assert.deepEqual(kinds(r), ['read-only', 'read-only', 'read-only', 'read-only', 'path-escape']);
      const details = r.audit.events.map((e: AuditEvent) => e.detail);
      assert.match(details[0], /^\/data\/a\.txt: .*read-only mount/);
      assert.match(details[2], /^\/data\/d: /);
      assert.match(details[4], /^\/data\/link-out: .*leaves the mount/);
      assert.deepEqual(readdirSync(mount).sort(), ['a.txt', 'link-in', 'link-out']);
    });
  }

  it('records other refusals of a mount (its root, a FIFO) as fs-denied', async () => {
    const dir = tempDir('audit-rw');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const r = await runIn(
      { mounts: [{ host: dir, guest: '/out', mode: 'rw' }] },
      `
import os
for op in (lambda: os.rmdir('/out'), lambda: os.stat('/out/fifo')):
    try:
        op()
    except OSError as e:
        print(e.errno)
`,
    );
    r.throwIfError();
    assert.deepEqual(kinds(r), ['fs-denied', 'fs-denied'], JSON.stringify(r.audit));
    assert.equal(r.stdout, '13\n13\n');
  });

  it('records quota refusals, in memory and on a rw mount', async () => {
    const dir = tempDir('audit-rw');
    const r = await runIn(
      { fsQuota: { bytes: 4096 }, mounts: [{ host: dir, guest: '/out', mode: 'rw', quotaBytes: 4096 }] },
      `
for path in ('/tmp.bin', '/out/big.bin'):
    try:
        with open(path, 'wb') as f:
            f.write(b'x' * 10000)
    except OSError as e:
        print(e.errno)
`,
    );
    r.throwIfError();
    assert.equal(r.stdout, '28\n28\n');
    assert.deepEqual(kinds(r), ['quota', 'quota']);
    assert.match(r.audit.events[0].detail, /quota/);
  });
});

describe('audit: the CPython engine', () => {
  it('records file refusals (its files go through the same syscall layer)', async () => {
    const { mount } = mountTree();
    const r = await runIn(
      { engine: 'cpython', mounts: [{ host: mount, guest: '/data', mode: 'ro' }], limits: { timeoutMs: 60_000 } },
      `
try:
    open('/data/a.txt', 'w')
except OSError as e:
    print(type(e).__name__)
`,
    );
    r.throwIfError();
    assert.equal(r.stdout, 'PermissionError\n');
    assert.deepEqual(kinds(r), ['read-only']);
    assert.match(r.audit.events[0].detail, /^\/data\/a\.txt: /);
  });
});

describe('audit: bound', () => {
  for (const isolation of ISOLATIONS) {
    it(`keeps the first 64 events and counts the rest (${isolation})`, async () => {
      const r = await runIn(
        { isolation, fsQuota: { files: 1 } },
        `
n = 0
for i in range(5000):
    try:
        open('/f%d' % i, 'w').close()
    except OSError:
        n += 1
print(n)
`,
      );
      r.throwIfError();
      const refused = Number(r.stdout.trim());
      assert.ok(refused >= 4998, r.stdout);
      assert.equal(r.audit.events.length, 64);
      assert.equal(r.audit.dropped, refused - 64);
      assert.ok(r.audit.events.every((e) => e.kind === 'quota'));
      assert.ok(r.audit.events.every((e) => e.detail.length <= 257));
    });
  }

  it('bounds each event: a long path is cut', async () => {
    const { mount } = mountTree();
    const r = await runIn({ mounts: [{ host: mount, guest: '/data', mode: 'ro' }] }, `
try:
    open('/data/' + 'p' * 250, 'w')
except OSError as e:
    print(e.errno)
`);
    assert.equal(r.stdout, '13\n');
    assert.deepEqual(kinds(r), ['read-only']);
    assert.equal(r.audit.events[0].detail.length, 257);
    assert.ok(r.audit.events[0].detail.endsWith('…'));
  });
});

describe('audit: the result as JSON', () => {
  it('is in toJSON and accepted by the servers\' result schema', async () => {
    const r = await runIn({}, 'import uctypes');
    const json = JSON.parse(JSON.stringify(r));
    assert.deepEqual(json.audit, { events: [{ kind: 'denied-import', detail: 'uctypes' }], dropped: 0 });
    assert.deepEqual(RunResultSchema.parse({ ...json, engine: 'micropython' }).audit, json.audit);
  });

  it('is in the CLI\'s --json output', () => {
    const r = cli(['run', '--json', '-c', 'import uctypes']);
    assert.equal(r.status, 7);
    assert.deepEqual(JSON.parse(r.stdout).audit, { events: [{ kind: 'denied-import', detail: 'uctypes' }], dropped: 0 });
  });

  it('is summed up in the servers\' text for a reader, a few events and a count', async () => {
    const r = await runIn({ fsQuota: { files: 1 } }, `
for i in range(10):
    try:
        open('/f%d' % i, 'w').close()
    except OSError:
        pass
`);
    const text = describeResult(RunResultSchema.parse({ ...r.toJSON(), engine: 'micropython' }));
    assert.match(text, /refused by the sandbox:\n  quota: \/f\d: /);
    assert.equal(text.match(/^  quota: /gm)?.length, 5);
    assert.match(text, new RegExp(`\\(and ${r.audit.events.length - 5} more\\)`));
    const clean = await runIn({}, 'print(1)');
    assert.doesNotMatch(describeResult(clean.toJSON()), /refused/);
  });
});

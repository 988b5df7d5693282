// `pyfence wasm` keeps instrumented modules in the platform cache directory by default: a damaged
// entry is never used, --no-cache and PYFENCE_WASM_CACHE=off turn it off, a directory others can
// write is refused, and the cache stays within its size bound.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pruneWasmCache } from '../src/cli/wasm-cache.js';
import { CLI, nodeAsync, ROOT, type CliResult, tempDir } from './helpers.js';

const HELLO = join(ROOT, 'test/fixtures/wasm/hello.wasm');

function wasm(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return nodeAsync([CLI, 'wasm', ...args], { env: childEnv, timeoutMs: 120_000 });
}

const entries = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
/** Without file identity records (written only for a file whose timestamps are 2 s old: test/wasm-cache-identity.test.ts). */
const modules = (dir: string) => entries(dir).filter((name) => !name.endsWith('.file'));

describe('pyfence wasm: the disk cache', () => {
  it('fills $XDG_CACHE_HOME/pyfence/wasm by default and never uses a damaged entry', async () => {
    const home = tempDir('xdg');
    const env = { XDG_CACHE_HOME: home, PYFENCE_WASM_CACHE: undefined };
    const first = await wasm([HELLO], env);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, 'Hello, WASI!\n');
    const dir = join(home, 'pyfence', 'wasm');
    const files = modules(dir);
    assert.equal(files.length, 2, `${files}`);
    const [entry, check] = files;
    assert.match(check, new RegExp(`^${entry.replace(/\./g, '\\.')}\\.check$`));
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);

    // Damage the entry (a valid module with the wrong bytes for its check): instrumented again, rewritten.
    const good = fs.readFileSync(join(dir, entry));
    fs.writeFileSync(join(dir, entry), Buffer.concat([good, Buffer.from([0, 3, 1, 120, 0])]));
    const second = await wasm([HELLO], env);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, 'Hello, WASI!\n');
    assert.deepEqual(fs.readFileSync(join(dir, entry)), good);
  });

  it('--no-cache and PYFENCE_WASM_CACHE=off write nothing; PYFENCE_WASM_CACHE moves it', async () => {
    const home = tempDir('xdg');
    const moved = join(tempDir('moved'), 'cache');
    const [noCache, off, elsewhere] = await Promise.all([
      wasm(['--no-cache', HELLO], { XDG_CACHE_HOME: home, PYFENCE_WASM_CACHE: undefined }),
      wasm([HELLO], { XDG_CACHE_HOME: home, PYFENCE_WASM_CACHE: 'off' }),
      wasm([HELLO], { XDG_CACHE_HOME: home, PYFENCE_WASM_CACHE: moved }),
    ]);
    for (const r of [noCache, off, elsewhere]) assert.equal(r.stdout, 'Hello, WASI!\n', r.stderr);
    assert.deepEqual(entries(join(home, 'pyfence', 'wasm')), []);
    assert.equal(modules(moved).length, 2);
  });

  it('refuses a cache directory others can write, and still runs', async () => {
    const dir = tempDir('shared-cache');
    fs.chmodSync(dir, 0o777);
    const r = await wasm([HELLO], { PYFENCE_WASM_CACHE: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'Hello, WASI!\n');
    assert.match(r.stderr, /not caching modules in .*: it must be a directory only you can write/);
    assert.deepEqual(entries(dir), []);
  });

  it('drops the oldest entries past its size bound, and the file records that named them', () => {
    const dir = tempDir('prune');
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      fs.writeFileSync(join(dir, `${name}.v6.wasm`), Buffer.alloc(1000));
      fs.writeFileSync(join(dir, `${name}.v6.wasm.check`), '1000 0');
      fs.writeFileSync(join(dir, `1-${i}-1000-0-0.file`), name);
      const t = new Date(Date.now() - (3 - i) * 60_000);
      fs.utimesSync(join(dir, `${name}.v6.wasm`), t, t);
    }
    pruneWasmCache(dir, 2000);
    assert.deepEqual(entries(dir), ['1-1-1000-0-0.file', '1-2-1000-0-0.file', 'b.v6.wasm', 'b.v6.wasm.check', 'c.v6.wasm', 'c.v6.wasm.check']);
  });
});

// Finding F1 of security review 2 (an escape on 96f4678): fd_renumber(fd, fd) closed the host
// descriptor but kept the guest's entry, so the guest read and wrote whatever the process opened next
// under that number (another tenant's file, a host log). A guest descriptor now owns its host handle:
// renumber onto itself changes nothing, and a closed handle is EBADF whatever the host opened since.
// Each case fails on 96f4678. Real modules, real files, inline and on WasmPool workers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { WasmModule, WasmPool, type CompileOptions, type WasmRunResult } from '../src/index.js';
import { tempDir } from './helpers.js';

const pool = new WasmPool({ size: 2 });
after(() => pool.close());

const WASI = (name: string, sig: string) => `(import "wasi_snapshot_preview1" "${name}" (func $${name} ${sig}))`;
const IMPORTS = [
  WASI('path_open', '(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)'),
  WASI('fd_renumber', '(param i32 i32) (result i32)'),
  WASI('fd_close', '(param i32) (result i32)'),
  WASI('fd_pread', '(param i32 i32 i32 i64 i32) (result i32)'),
  WASI('fd_pwrite', '(param i32 i32 i32 i64 i32) (result i32)'),
  WASI('fd_write', '(param i32 i32 i32 i32) (result i32)'),
  WASI('poll_oneoff', '(param i32 i32 i32 i32) (result i32)'),
].join('\n');

/**
 * Opens mine.txt (read, seek, write rights) in preopen 3 as A and other.txt as B, runs `drop` (which
 * may renumber or close them), lets the host open a file (env.open_host), then reads `use` at 0 to
 * stdout and writes "PWNED" at 0 through it. The last stdout line is the errnos as letters ('a' + errno)
 * of: open A, open B, drop, pread, pwrite.
 */
function dropThenUse(drop: string, use: string): string {
  return `(module ${IMPORTS}
  (import "env" "open_host" (func $open_host))
  (memory (export "memory") 1)
  (data (i32.const 16) "mine.txt") (data (i32.const 32) "other.txt") (data (i32.const 64) "PWNED")
  (global $a (mut i32) (i32.const 0)) (global $b (mut i32) (i32.const 0))
  (func $errno (param $at i32) (param $e i32) (i32.store8 (local.get $at) (i32.add (i32.const 97) (local.get $e))))
  (func (export "_start")
    (call $errno (i32.const 900) (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 8) (i32.const 0) (i64.const 70) (i64.const 0) (i32.const 0) (i32.const 100)))
    (call $errno (i32.const 901) (call $path_open (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 9) (i32.const 0) (i64.const 70) (i64.const 0) (i32.const 0) (i32.const 104)))
    (global.set $a (i32.load (i32.const 100))) (global.set $b (i32.load (i32.const 104)))
    (call $errno (i32.const 902) ${drop})
    (call $open_host)
    (i32.store (i32.const 200) (i32.const 1024)) (i32.store (i32.const 204) (i32.const 256))
    (call $errno (i32.const 903) (call $fd_pread ${use} (i32.const 200) (i32.const 1) (i64.const 0) (i32.const 108)))
    (i32.store (i32.const 204) (i32.load (i32.const 108)))
    (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 112)))
    (i32.store (i32.const 300) (i32.const 64)) (i32.store (i32.const 304) (i32.const 5))
    (call $errno (i32.const 904) (call $fd_pwrite ${use} (i32.const 300) (i32.const 1) (i64.const 0) (i32.const 116)))
    (i32.store8 (i32.const 905) (i32.const 10))
    (i32.store (i32.const 300) (i32.const 900)) (i32.store (i32.const 304) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 116)))))`;
}

const letters = (...errnos: number[]) => errnos.map((e) => String.fromCharCode(97 + e)).join('');
const BADF = 8;

interface Case {
  name: string;
  drop: string;
  use: string;
  /** What the guest reads back, and the errnos (open A, open B, drop, pread, pwrite). */
  reads: string;
  errnos: string;
}

const CASES: Case[] = [
  { name: 'renumber onto itself is a no-op', drop: '(call $fd_renumber (global.get $a) (global.get $a))', use: '(global.get $a)', reads: 'mine\n', errnos: letters(0, 0, 0, 0, 0) },
  { name: 'renumber onto another moves the file and frees the old number', drop: '(call $fd_renumber (global.get $a) (global.get $b))', use: '(global.get $b)', reads: 'mine\n', errnos: letters(0, 0, 0, 0, 0) },
  { name: 'the number renumbered away is EBADF', drop: '(call $fd_renumber (global.get $a) (global.get $b))', use: '(global.get $a)', reads: '', errnos: letters(0, 0, 0, BADF, BADF) },
  { name: 'a closed number is EBADF', drop: '(call $fd_close (global.get $a))', use: '(global.get $a)', reads: '', errnos: letters(0, 0, 0, BADF, BADF) },
];

/** A rw mount with the guest's two files, and a host file outside it that the host opens mid-run. */
function setup(): { dir: string; secret: string; opened: number[]; openHost: () => void } {
  const dir = tempDir('stale-fd');
  fs.mkdirSync(join(dir, 'mount'));
  fs.writeFileSync(join(dir, 'mount', 'mine.txt'), 'mine\n');
  fs.writeFileSync(join(dir, 'mount', 'other.txt'), 'other\n');
  const secret = join(dir, 'host-secret.log');
  fs.writeFileSync(secret, 'HOST-SECRET\n');
  const opened: number[] = [];
  // The lowest free number: the one a close just freed, if the guest's close reached the host.
  return { dir, secret, opened, openHost: () => void opened.push(fs.openSync(secret, 'r+')) };
}

for (const where of ['inline', 'a WasmPool worker'] as const) {
  describe(`F1: a guest descriptor never names a host descriptor freed by a close (${where})`, () => {
    for (const c of CASES) {
      it(c.name, async () => {
        const { dir, secret, opened, openHost } = setup();
        try {
          const options: CompileOptions = where === 'inline' ? {} : { pool };
          const m = await WasmModule.compile(dropThenUse(c.drop, c.use), options);
          const r: WasmRunResult = await m.run({ mounts: [{ host: join(dir, 'mount'), guest: '/m', mode: 'rw' }], imports: { 'env.open_host': openHost } });
          assert.equal(r.ok, true, JSON.stringify(r.error));
          assert.equal(opened.length, 1, 'the host opened its file mid-run');
          const [read, errnos] = [r.stdout.slice(0, -6), r.stdout.slice(-6, -1)];
          assert.doesNotMatch(r.stdout, /HOST-SECRET/, 'the guest read a host file outside its mount');
          assert.equal(fs.readFileSync(secret, 'utf8'), 'HOST-SECRET\n', 'the guest wrote a host file outside its mount');
          assert.equal(errnos, c.errnos);
          assert.equal(read, c.reads);
          if (c.reads) assert.equal(fs.readFileSync(join(dir, 'mount', 'mine.txt'), 'utf8'), 'PWNED', 'the write reached its own file');
        } finally {
          for (const fd of opened) fs.closeSync(fd);
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
}

describe('F1: two tenants on a WasmPool, one renumbering its descriptor onto itself', () => {
  it("never reads the other tenant's file opened meanwhile on the other worker", async () => {
    const dir = tempDir('stale-tenants');
    try {
      fs.mkdirSync(join(dir, 'a'));
      fs.mkdirSync(join(dir, 'b'));
      fs.writeFileSync(join(dir, 'a', 'mine.txt'), 'A-OWN\n');
      fs.writeFileSync(join(dir, 'b', 'secret.txt'), 'TENANT-B-SECRET\n');
      // A: open, renumber onto itself, then read at 0 every 20 ms for 1.2 s, printing each read.
      const reader = await WasmModule.compile(
        `(module ${IMPORTS}
          (memory (export "memory") 1) (data (i32.const 16) "mine.txt")
          (func (export "_start") (local $i i32)
            (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 8) (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 100)))
            (drop (call $fd_renumber (i32.load (i32.const 100)) (i32.load (i32.const 100))))
            (loop $l
              (i32.store (i32.const 200) (i32.const 1024)) (i32.store (i32.const 204) (i32.const 64))
              (i32.store (i32.const 104) (i32.const 0))
              (drop (call $fd_pread (i32.load (i32.const 100)) (i32.const 200) (i32.const 1) (i64.const 0) (i32.const 104)))
              (i32.store (i32.const 204) (i32.load (i32.const 104)))
              (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 108)))
              (i64.store (i32.const 400) (i64.const 1)) (i32.store8 (i32.const 408) (i32.const 0))
              (i32.store (i32.const 416) (i32.const 1)) (i64.store (i32.const 424) (i64.const 20000000)) (i64.store (i32.const 432) (i64.const 0))
              (drop (call $poll_oneoff (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 600)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 60))))))`,
        { pool },
      );
      // B: opens its secret and holds it open for 600 ms.
      const holder = await WasmModule.compile(
        `(module ${IMPORTS}
          (memory (export "memory") 1) (data (i32.const 16) "secret.txt")
          (func (export "_start")
            (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 10) (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 100)))
            (i64.store (i32.const 400) (i64.const 1)) (i32.store8 (i32.const 408) (i32.const 0))
            (i32.store (i32.const 416) (i32.const 1)) (i64.store (i32.const 424) (i64.const 600000000)) (i64.store (i32.const 432) (i64.const 0))
            (drop (call $poll_oneoff (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 600)))))`,
        { pool },
      );
      await Promise.all([reader.run({ limits: { timeoutMs: 200 } }), holder.run({ limits: { timeoutMs: 200 } })]); // both workers up
      const a = reader.run({ mounts: [{ host: join(dir, 'a'), guest: '/a', mode: 'ro' }], limits: { timeoutMs: 20_000 } });
      await new Promise((r) => setTimeout(r, 200));
      const b = holder.run({ mounts: [{ host: join(dir, 'b'), guest: '/b', mode: 'ro' }], limits: { timeoutMs: 20_000 } });
      const [ra, rb] = await Promise.all([a, b]);
      assert.equal(rb.ok, true, JSON.stringify(rb.error));
      assert.equal(ra.ok, true, JSON.stringify(ra.error));
      assert.doesNotMatch(ra.stdout, /TENANT-B-SECRET/);
      assert.equal(ra.stdout, 'A-OWN\n'.repeat(60), 'every read is of its own file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A host directory whose subdirectory is swapped, in a tight loop on another thread, for a symlink
// to a directory outside it; and a fingerprint of that outside directory, to show nothing changed.
// Shared by the race tests of the sandbox's mounts and of WASI preopens.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const SECRET = 'OUTSIDE-SECRET'.padEnd(7777, '!'); // a size nothing inside the mount has
/** Directories present both inside `sub` and outside; see layout(). */
export const DEEP = 'a/b/c/d/e/f/g/h';

/**
 * root/outside/DEEP/{secret.txt, victim, keep/}; root/m/{sub/DEEP/inner.txt, link -> root/outside}.
 * The same DEEP directories on both sides keep a path through `sub` valid in either state, which
 * widens the window a check-then-use implementation leaves open. Returns a fingerprint of outside/.
 */
export function layout() {
  const root = mkdtempSync(join(tmpdir(), 'pyfence-race-'));
  const outside = join(root, 'outside');
  const mount = join(root, 'm');
  mkdirSync(join(outside, DEEP, 'keep'), { recursive: true });
  writeFileSync(join(outside, DEEP, 'secret.txt'), SECRET);
  writeFileSync(join(outside, DEEP, 'victim'), 'VICTIM');
  mkdirSync(join(mount, 'sub', DEEP), { recursive: true });
  writeFileSync(join(mount, 'sub', DEEP, 'inner.txt'), 'inner');
  symlinkSync(outside, join(mount, 'link'));
  return { root, outside, mount, before: fingerprint(outside) };
}

/** Names, kinds, sizes and contents of everything under `dir`. */
export function fingerprint(dir: string): string {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        out.push(`${prefix}${name}/`);
        walk(p, `${prefix}${name}/`);
      } else out.push(`${prefix}${name} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`);
    }
  };
  walk(dir, '');
  return out.join('\n');
}

/** Swaps mount/sub between the real directory and the outward link until stopped; resolves to the flip count. */
export function startSwapper(mount: string): { stop: () => Promise<number> } {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const fs = require('node:fs'); const { workerData: d, parentPort } = require('node:worker_threads');
     const j = (n) => d.mount + '/' + n;
     let flips = 0;
     while (Atomics.load(d.flag, 0) === 0) {
       try { fs.renameSync(j('sub'), j('tmp')); fs.renameSync(j('link'), j('sub')); } catch {}
       try { fs.renameSync(j('sub'), j('link')); fs.renameSync(j('tmp'), j('sub')); } catch {}
       flips++;
     }
     parentPort.postMessage(flips);`,
    { eval: true, workerData: { mount, flag } },
  );
  const flips = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      Atomics.store(flag, 0, 1);
      return flips;
    },
  };
}


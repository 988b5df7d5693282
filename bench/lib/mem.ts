// Process memory snapshots with a forced full GC (no --expose-gc needed on the command line).

import v8 from 'node:v8';
import vm from 'node:vm';

let gcFn: (() => void) | undefined;

export function forceGc(): boolean {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      try {
        v8.setFlagsFromString('--expose-gc');
        gcFn = vm.runInNewContext('gc') as () => void;
      } catch {
        return false;
      }
    }
  }
  gcFn();
  gcFn();
  return true;
}

export interface MemSnapshot {
  rssMB: number;
  heapUsedMB: number;
  /** Includes wasm memories and ArrayBuffers. */
  externalMB: number;
}

const MB = 1024 * 1024;

export function memSnapshot(gc = true): MemSnapshot {
  if (gc) forceGc();
  const m = process.memoryUsage();
  return { rssMB: m.rss / MB, heapUsedMB: m.heapUsed / MB, externalMB: m.external / MB };
}

export function memDelta(a: MemSnapshot, b: MemSnapshot): MemSnapshot {
  return { rssMB: b.rssMB - a.rssMB, heapUsedMB: b.heapUsedMB - a.heapUsedMB, externalMB: b.externalMB - a.externalMB };
}

export function fmtMem(m: MemSnapshot): string {
  const f = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  return `rss ${f(m.rssMB)} MB, JS heap ${f(m.heapUsedMB)} MB, external ${f(m.externalMB)} MB`;
}

// What a run is given: the imports it may link, its preopened directories, its stdin.
import { UsageError } from '../../core/errors.js';
import { HOST_IMPORT_MODULE } from '../../engine/abi.js';
import { blockingSleep } from '../../engine/host.js';
import { components, joinPath } from '../../vfs/paths.js';
import { Quota } from '../../vfs/quota.js';
import { DEFAULT_FS_QUOTA } from '../../vfs/vfs.js';
import { HostBackend } from '../../vfs/host-backend.js';
import type { Backend } from '../../vfs/types.js';
import { WASI_MODULE } from '../../abi/wasi-p1/wasi.js';
import { WASI_FUNCTIONS } from '../../abi/wasi-p1/names.js';
import type { ModuleMeta } from '../../instrument/meter.js';
import type { ResolvedWasmLimits, WasmRunOptions } from './options.js';

/** Each import the module declares that the grants do not cover, as "module.name". */
export function ungrantedImports(meta: ModuleMeta, options: WasmRunOptions): string[] {
  const wasi = options.wasi ?? true;
  const granted = options.imports ?? {};
  // The instrumenter's own imports live in HOST_IMPORT_MODULE: a guest never imports from it.
  const allowed = (i: { module: string; name: string }) =>
    (wasi && i.module === WASI_MODULE && WASI_FUNCTIONS.has(i.name)) || (i.module !== HOST_IMPORT_MODULE && Object.hasOwn(granted, `${i.module}.${i.name}`));
  return meta.imports
    .filter((i) => !allowed(i))
    .map((i) => `${i.module}.${i.name}`);
}

/** The granted host directories, each preopened at its guest path (the in-memory files are the session's). */
export function buildMounts(options: WasmRunOptions, limits: ResolvedWasmLimits): { guest: string; tree: Backend }[] {
  const preopens: { guest: string; tree: Backend }[] = [];
  const seen = new Set<string>();
  for (const m of options.mounts ?? []) {
    const guest = joinPath(components(m.guest));
    if (seen.has(guest)) throw new UsageError(`two mounts at ${guest}`);
    seen.add(guest);
    let tree: HostBackend;
    try {
      // Entries are bounded as in the sandbox's mounts: names and empty files cost too.
      tree = new HostBackend({ host: m.host, mode: m.mode ?? 'ro', quota: new Quota(m.quotaBytes ?? limits.writeQuotaBytes, DEFAULT_FS_QUOTA.files) });
    } catch (e) {
      throw new UsageError((e as Error).message); // names the host directory and why
    }
    preopens.push({ guest, tree });
  }
  return preopens;
}

/** The guest's stdin as a function of the most bytes wanted; a reader is polled within the deadline. */
export function stdinOf(source: WasmRunOptions['stdin'], checkDeadline: () => void): (max: number) => Uint8Array {
  if (typeof source === 'function') {
    return (max) => {
      for (;;) {
        checkDeadline();
        const chunk = source(max);
        if (chunk) return chunk.subarray(0, max);
        blockingSleep(10);
      }
    };
  }
  const all = typeof source === 'string' ? new TextEncoder().encode(source) : (source ?? new Uint8Array(0));
  let at = 0;
  return (max) => {
    const chunk = all.subarray(at, at + max);
    at += chunk.length;
    return chunk;
  };
}

// Node's built-in modules that only some runs use, loaded when first used: node:crypto alone costs
// ~7 ms of CPU to load (node:zlib and node:net ~2 ms each, measured in a fresh process), which every
// `pyfence run` paid before it printed anything, though only snapshots, keys, cached modules and
// network grants need them.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const nodeCrypto = (): typeof import('node:crypto') => load('node:crypto');
export const nodeZlib = (): typeof import('node:zlib') => load('node:zlib');
export const nodeNet = (): typeof import('node:net') => load('node:net');
export const nodeWorkerThreads = (): typeof import('node:worker_threads') => load('node:worker_threads');

/** The sha256 of `data` in hex: the hash modules, images and cache entries are named by. */
export function sha256Hex(data: Uint8Array | string): string {
  return nodeCrypto().createHash('sha256').update(data).digest('hex');
}

// Node's built-in modules that only some runs use, loaded when first used: node:crypto alone costs
// ~7 ms of CPU to load (node:zlib and node:net ~2 ms each, measured in a fresh process), which every
// `pyfence run` paid before it printed anything, though only snapshots, keys, cached modules and
// network grants need them.
import { createRequire } from 'node:module';

// Made on first use: createRequire costs ~0.8 ms the first time in a process, which a command
// that loads none of these need not pay.
let requireHere: NodeJS.Require | undefined;
const load = (name: string): unknown => (requireHere ??= createRequire(import.meta.url))(name);

export const nodeCrypto = () => load('node:crypto') as typeof import('node:crypto');
export const nodeZlib = () => load('node:zlib') as typeof import('node:zlib');
export const nodeNet = () => load('node:net') as typeof import('node:net');
export const nodeWorkerThreads = () => load('node:worker_threads') as typeof import('node:worker_threads');
export const nodeOs = () => load('node:os') as typeof import('node:os');

/** The sha256 of `data` in hex: the hash modules, images and cache entries are named by. */
export function sha256Hex(data: Uint8Array | string): string {
  return nodeCrypto().createHash('sha256').update(data).digest('hex');
}

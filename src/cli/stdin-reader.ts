// The process's stdin as a non-blocking reader for a guest that runs synchronously on the main
// thread: a worker reads stdin as a stream (libuv, non-blocking: it never holds the process open
// at exit) and hands chunks over through a shared buffer, so a guest waiting for input still meets
// its deadline. Started only when the guest first reads stdin.
import { Worker } from 'node:worker_threads';
import type { StdinReader } from '../guests/wasi/options.js';

const CHUNK = 64 * 1024;
const EMPTY = 0;
const READY = 1;
const END = 2;

// control: [state, length]; the main thread posts a message when it has taken a chunk.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const control = new Int32Array(workerData.control);
const slot = new Uint8Array(workerData.data);
// A pipe or socket is read as a socket, a terminal as one; anything else (a file, /dev/null, which a
// socket refuses) as a file. No stdin at all, or one none of them can read, is an empty one.
function open() {
  const st = fs.fstatSync(0);
  if (require('node:tty').isatty(0)) return new (require('node:tty').ReadStream)(0);
  if (st.isFIFO() || st.isSocket()) return new (require('node:net').Socket)({ fd: 0, readable: true, writable: false });
  return fs.createReadStream(null, { fd: 0, autoClose: false });
}
let stream = null;
try {
  stream = open();
} catch {}
let pending = [];
let ended = stream === null;
function offer() {
  if (Atomics.load(control, 0) !== ${EMPTY}) return;
  if (pending.length) {
    const chunk = pending[0];
    const n = Math.min(chunk.length, slot.length);
    slot.set(chunk.subarray(0, n));
    if (n < chunk.length) pending[0] = chunk.subarray(n); else pending.shift();
    Atomics.store(control, 1, n);
    Atomics.store(control, 0, ${READY});
  } else if (ended) {
    Atomics.store(control, 0, ${END});
  } else {
    stream.resume();
  }
}
if (stream) {
  stream.on('data', (chunk) => { stream.pause(); pending.push(chunk); offer(); });
  stream.on('end', () => { ended = true; offer(); });
  stream.on('error', () => { ended = true; offer(); });
} else offer();
parentPort.on('message', offer);`;

export interface ProcessStdin {
  read: StdinReader;
}

export function processStdin(): ProcessStdin {
  let worker: Worker | null = null;
  let control: Int32Array | null = null;
  let slot: Uint8Array | null = null;
  let offset = 0;
  const read: StdinReader = (max) => {
    if (!control) {
      const controlBuffer = new SharedArrayBuffer(8);
      const dataBuffer = new SharedArrayBuffer(CHUNK);
      control = new Int32Array(controlBuffer);
      slot = new Uint8Array(dataBuffer);
      worker = new Worker(WORKER, { eval: true, workerData: { control: controlBuffer, data: dataBuffer } });
      worker.unref();
    }
    const state = Atomics.load(control, 0);
    if (state === END) return new Uint8Array(0);
    if (state === EMPTY) return null;
    const length = Atomics.load(control, 1);
    const chunk = slot!.slice(offset, Math.min(length, offset + max));
    offset += chunk.length;
    if (offset >= length) {
      offset = 0;
      Atomics.store(control, 0, EMPTY);
      worker!.postMessage(0);
    }
    return chunk;
  };
  return { read };
}

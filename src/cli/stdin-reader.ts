// The process's stdin as a non-blocking reader for a guest: a worker thread does the blocking
// reads into a shared buffer, so a guest waiting for input still meets its deadline. Started only
// when the guest first reads stdin.
import { Worker } from 'node:worker_threads';
import type { StdinReader } from '../guests/wasi/options.js';

const CHUNK = 64 * 1024;
const EMPTY = 0;
const READY = 1;
const END = 2;

const WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const control = new Int32Array(workerData.control);
const data = new Uint8Array(workerData.data);
for (;;) {
  Atomics.wait(control, 0, ${READY});
  let n;
  try {
    n = fs.readSync(0, data, 0, data.length, null);
  } catch (e) {
    if (e.code === 'EAGAIN') { Atomics.wait(control, 2, 0, 10); continue; }
    n = 0;
  }
  if (n === 0) { Atomics.store(control, 0, ${END}); Atomics.notify(control, 0); break; }
  Atomics.store(control, 1, n);
  Atomics.store(control, 0, ${READY});
  Atomics.notify(control, 0);
}`;

export function processStdinReader(): StdinReader {
  let control: Int32Array | null = null;
  let data: Uint8Array | null = null;
  let offset = 0;
  return (max) => {
    if (!control) {
      const controlBuffer = new SharedArrayBuffer(12);
      const dataBuffer = new SharedArrayBuffer(CHUNK);
      control = new Int32Array(controlBuffer);
      data = new Uint8Array(dataBuffer);
      new Worker(WORKER, { eval: true, workerData: { control: controlBuffer, data: dataBuffer } }).unref();
    }
    const state = Atomics.load(control, 0);
    if (state === END) return new Uint8Array(0);
    if (state === EMPTY) return null;
    const length = Atomics.load(control, 1);
    const chunk = data!.slice(offset, Math.min(length, offset + max));
    offset += chunk.length;
    if (offset >= length) {
      offset = 0;
      Atomics.store(control, 0, EMPTY);
      Atomics.notify(control, 0);
    }
    return chunk;
  };
}

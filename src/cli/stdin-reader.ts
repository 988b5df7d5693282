// The process's stdin as a non-blocking reader for a guest that runs synchronously on the main
// thread. A stdin that can never block (a regular file, /dev/null and its kin) is read on the main
// thread with readSync, as node:wasi does: no worker to start and no polling for its end. Anything
// else (a pipe, a socket, a terminal) may wait forever: a worker reads it as a stream (libuv,
// non-blocking: it never holds the process open at exit) and hands chunks over through a shared
// buffer, so a guest waiting for input still meets its deadline. Chosen when the guest first reads.
import * as fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { nodeWorkerThreads } from '../core/lazy-builtins.js';
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
// A pipe or socket is read as a socket, a terminal as one; anything else (a device that may wait,
// which a socket refuses) as a file. No stdin at all, or one none of them can read, is an empty one.
const fd = workerData.fd;
function open() {
  const st = fs.fstatSync(fd);
  if (require('node:tty').isatty(fd)) return new (require('node:tty').ReadStream)(fd);
  if (st.isFIFO() || st.isSocket()) return new (require('node:net').Socket)({ fd, readable: true, writable: false });
  return fs.createReadStream(null, { fd, autoClose: false });
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

/** Character devices whose reads never wait (Linux, macOS): compared by device number. */
const NEVER_BLOCKING_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/urandom'];

/** Whether reading `fd` can never wait: a regular file, or one of the never-blocking devices. */
export function neverBlocks(fd: number): boolean {
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch {
    return false; // no stdin at all: the worker's path makes it an empty one
  }
  if (st.isFile()) return true;
  if (!st.isCharacterDevice()) return false;
  // By device number alone (a terminal has its own): asking isatty loaded node:tty and node:net.
  return NEVER_BLOCKING_DEVICES.some((path) => {
    try {
      return fs.statSync(path).rdev === st.rdev;
    } catch {
      return false;
    }
  });
}

/** Reads `fd` on the calling thread: at most CHUNK bytes a call, empty at its end (or on an error). */
function synchronousReader(fd: number): StdinReader {
  let ended = false;
  return (max) => {
    if (ended) return new Uint8Array(0);
    const buffer = new Uint8Array(Math.min(max, CHUNK));
    let n = 0;
    try {
      n = fs.readSync(fd, buffer, 0, buffer.length, null);
    } catch {
      n = 0; // unreadable (e.g. a directory): an empty stdin, as on the worker's path
    }
    if (n === 0) ended = true;
    return buffer.subarray(0, n);
  };
}

/** A reader of `fd` (the process's stdin unless told) that never blocks the thread calling it. */
export function processStdin(fd = 0): ProcessStdin {
  let chosen: StdinReader | null = null;
  const read: StdinReader = (max) => {
    chosen ??= neverBlocks(fd) ? synchronousReader(fd) : workerReader(fd);
    return chosen(max);
  };
  return { read };
}

/** Reads `fd` in a worker; null while no chunk is ready. */
function workerReader(fd: number): StdinReader {
  const controlBuffer = new SharedArrayBuffer(8);
  const dataBuffer = new SharedArrayBuffer(CHUNK);
  const control = new Int32Array(controlBuffer);
  const slot = new Uint8Array(dataBuffer);
  const { Worker } = nodeWorkerThreads();
  const worker: Worker = new Worker(WORKER, { eval: true, workerData: { fd, control: controlBuffer, data: dataBuffer } });
  worker.unref();
  let offset = 0;
  return (max) => {
    const state = Atomics.load(control, 0);
    if (state === END) return new Uint8Array(0);
    if (state === EMPTY) return null;
    const length = Atomics.load(control, 1);
    const chunk = slot.slice(offset, Math.min(length, offset + max));
    offset += chunk.length;
    if (offset >= length) {
      offset = 0;
      Atomics.store(control, 0, EMPTY);
      worker.postMessage(0);
    }
    return chunk;
  };
}

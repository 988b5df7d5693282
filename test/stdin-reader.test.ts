// The CLI's stdin reader (src/cli/stdin-reader.ts): which path a stdin takes. A file or /dev/null is
// read on the calling thread, so its first read already answers (data, or the end); a pipe goes to
// the worker, whose first read answers "nothing yet" (null) while the worker starts. The CLI's
// behaviour with each (a file read whole, /dev/null ending, a pipe, a deadline over a pipe that never
// ends) is in test/wasm-cli.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { neverBlocks, processStdin } from '../src/cli/stdin-reader.js';
import { tempDir } from './helpers.js';

const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('utf8');

describe('the stdin reader', () => {
  it('reads a regular file on the calling thread: every read answers, in chunks of at most max, then the end', () => {
    const dir = tempDir('stdin-file');
    const file = join(dir, 'in.txt');
    fs.writeFileSync(file, 'hello, stdin\n');
    const fd = fs.openSync(file, 'r');
    try {
      assert.equal(neverBlocks(fd), true);
      const { read } = processStdin(fd);
      const chunks: Uint8Array[] = [];
      for (;;) {
        const chunk = read(5);
        assert.notEqual(chunk, null, 'a file never answers "nothing yet"');
        if (chunk!.length === 0) break;
        assert.ok(chunk!.length <= 5);
        chunks.push(chunk!);
      }
      assert.equal(text(chunks), 'hello, stdin\n');
      assert.equal(read(5)!.length, 0, 'the end stays the end');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('reads /dev/null on the calling thread: the first read is the end', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      assert.equal(neverBlocks(fd), true);
      const first = processStdin(fd).read(100);
      assert.ok(first instanceof Uint8Array);
      assert.equal(first.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a terminal is not one of the devices that never block (told by its device number)', (t) => {
    let fd: number;
    try {
      fd = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY); // a new pseudo-terminal
    } catch {
      t.skip('no /dev/ptmx here');
      return;
    }
    try {
      assert.ok(fs.fstatSync(fd).isCharacterDevice());
      assert.equal(neverBlocks(fd), false);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('hands a pipe to the worker: "nothing yet" at first, then what was written, then the end', async () => {
    const dir = tempDir('stdin-fifo');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Opened for reading without waiting for a writer, then the writer: both ends in this process.
    const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writeFd = fs.openSync(fifo, 'w');
    try {
      assert.equal(neverBlocks(readFd), false);
      const { read } = processStdin(readFd);
      assert.equal(read(100), null, 'a pipe is not read on the calling thread');
      fs.writeSync(writeFd, 'through the pipe\n');
      fs.closeSync(writeFd);
      const chunks: Uint8Array[] = [];
      const giveUp = Date.now() + 60_000;
      for (;;) {
        assert.ok(Date.now() < giveUp, 'the worker never delivered the pipe');
        const chunk = read(100);
        if (chunk === null) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        if (chunk.length === 0) break;
        chunks.push(chunk);
      }
      assert.equal(text(chunks), 'through the pipe\n');
    } finally {
      try {
        fs.closeSync(readFd);
      } catch {
        // the worker's socket closed it at the pipe's end
      }
    }
  });
});

// The host channel of a CPython sandbox: a device at a fixed descriptor, outside the file table, so it
// needs no JS object in the guest and no change to the module. One write is one request (the bytes of
// one fd_write); the host answers it during that write, and reads return the answer until it is used
// up (then 0, end of file); a read fills its buffers unless the answer ends in them. A request's size
// is checked before any of it is read from guest memory, it is charged as host work, and it goes to
// `hooks.hostCall`, where the gate of the host-function bridge (src/capabilities/host-call-gate.ts) decides
// what it may reach.
import { HOST_REQUEST_MAX_BYTES } from '../../engine/host.js';
import { HOST_WORK_FUEL } from '../../engine/host-work.js';
import { readIovecs } from '../../engine/iovecs.js';
import type { FuelMeter } from '../../engine/fuel.js';
import type { HostHooks } from '../../engine/host.js';
import type { GuestMemory } from '../../engine/memory-view.js';
import { WasiErrno } from '../../vfs/errno.js';

/** The channel's descriptor: above every descriptor the file table hands out (3 to 258). */
export const HOST_CHANNEL_FD = 1023;
const FILETYPE_CHARACTER_DEVICE = 2;

/** What the channel uses of the interpreter's import state (imports.ts). */
export interface ChannelState {
  memory: GuestMemory;
  meter: FuelMeter;
  hooks: HostHooks;
  channel: HostChannel;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The answer to the last request, read by the guest in as many reads as it likes. */
export class HostChannel {
  private reply = new Uint8Array(0);
  private at = 0;

  answer(reply: string): void {
    this.reply = encoder.encode(reply);
    this.at = 0;
  }

  /** Copies the next bytes of the answer into `into`; 0 once it is used up. */
  read(into: Uint8Array): number {
    const n = Math.min(into.length, this.reply.length - this.at);
    into.set(this.reply.subarray(this.at, this.at + n));
    this.at += n;
    return n;
  }

  /** Drops an answer the guest never read (it holds host memory until the next request). */
  clear(): void {
    this.answer('');
  }
}

type Fn = (...args: any[]) => unknown;

/** `wasi` with the channel's descriptor answered here and every other descriptor passed on. */
export function withHostChannel(current: () => ChannelState, wasi: Record<string, Fn>): Record<string, Fn> {
  const onChannel =
    (name: string, channel: Fn): Fn =>
    (fd: number, ...rest: unknown[]) =>
      fd === HOST_CHANNEL_FD ? channel(fd, ...rest) : wasi[name](fd, ...rest);

  const write = (_fd: number, iovs: number, count: number, nwritten: number): number => {
    const state = current();
    const m = state.memory;
    const parts = readIovecs(m, iovs, count);
    if (!parts) return WasiErrno.EINVAL;
    const total = parts.reduce((n, p) => n + p.len, 0);
    state.meter.charge(HOST_WORK_FUEL.syscall + HOST_WORK_FUEL.channelByte * Math.min(total, HOST_REQUEST_MAX_BYTES));
    let request: string | null = null;
    if (total <= HOST_REQUEST_MAX_BYTES) {
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        bytes.set(m.bytes(p.ptr, p.len), at);
        at += p.len;
      }
      request = decoder.decode(bytes);
    }
    state.channel.answer(state.hooks.hostCall(request));
    current().memory.setU32(nwritten, total);
    return 0;
  };

  const read = (_fd: number, iovs: number, count: number, nread: number): number => {
    const state = current();
    const m = state.memory;
    const parts = readIovecs(m, iovs, count);
    if (!parts) return WasiErrno.EINVAL;
    let total = 0;
    for (const p of parts) {
      const n = state.channel.read(m.bytes(p.ptr, p.len));
      total += n;
      if (n < p.len) break;
    }
    state.meter.charge(HOST_WORK_FUEL.syscall + HOST_WORK_FUEL.readByte * total);
    m.setU32(nread, total);
    return 0;
  };

  return {
    ...wasi,
    fd_write: onChannel('fd_write', write),
    fd_read: onChannel('fd_read', read),
    // The channel is always open: closing it changes nothing.
    fd_close: onChannel('fd_close', () => 0),
    fd_seek: onChannel('fd_seek', () => WasiErrno.ESPIPE),
    fd_fdstat_get: onChannel('fd_fdstat_get', (_fd: number, out: number) => {
      const m = current().memory;
      m.bytes(out, 24).fill(0);
      m.bytes(out, 1)[0] = FILETYPE_CHARACTER_DEVICE;
      return 0;
    }),
  };
}

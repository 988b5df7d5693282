// Clocks and calendar conversions for CPython's libc. The sandbox's time zone is UTC; the clock is the
// session's (the system clock, or the deterministic one that moves with fuel).
import type { HostHooks } from '../../engine/host.js';
import type { GuestMemory } from '../../engine/memory-view.js';
import { WasiErrno } from '../../vfs/errno.js';

interface TimeState {
  memory: GuestMemory;
  hooks: HostHooks;
  zoneName: { ptr: number };
}

const CLOCK_REALTIME = 0;
const MS_PER_DAY = 86_400_000;

/** struct tm field offsets (Emscripten's musl). */
const TM = { sec: 0, min: 4, hour: 8, mday: 12, mon: 16, year: 20, wday: 24, yday: 28, isdst: 32, gmtoff: 36, zone: 40 };

function writeTm(state: TimeState, seconds: number, tm: number): void {
  const m = state.memory;
  const d = new Date(seconds * 1000);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  m.setI32(tm + TM.sec, d.getUTCSeconds());
  m.setI32(tm + TM.min, d.getUTCMinutes());
  m.setI32(tm + TM.hour, d.getUTCHours());
  m.setI32(tm + TM.mday, d.getUTCDate());
  m.setI32(tm + TM.mon, d.getUTCMonth());
  m.setI32(tm + TM.year, d.getUTCFullYear() - 1900);
  m.setI32(tm + TM.wday, d.getUTCDay());
  m.setI32(tm + TM.yday, Math.floor((d.getTime() - yearStart) / MS_PER_DAY));
  m.setI32(tm + TM.isdst, 0);
  m.setI32(tm + TM.gmtoff, 0);
  m.setU32(tm + TM.zone, state.zoneName.ptr);
}

/** Seconds since the epoch of a struct tm read as UTC; the struct is normalised in place, as mktime does. */
function timegm(state: TimeState, tm: number): bigint {
  const m = state.memory;
  const get = (field: keyof typeof TM) => m.i32(tm + TM[field]);
  const ms = Date.UTC(get('year') + 1900, get('mon'), get('mday'), get('hour'), get('min'), get('sec'));
  if (!Number.isFinite(ms)) return -1n;
  const seconds = Math.floor(ms / 1000);
  writeTm(state, seconds, tm);
  return BigInt(seconds);
}

export function timeImports(current: () => TimeState): Record<string, (...args: any[]) => unknown> {
  const ns = (ms: number) => BigInt(Math.max(0, Math.round(ms * 1e6)));
  return {
    emscripten_date_now: () => current().hooks.clock.timeMs(),
    emscripten_get_now: () => current().hooks.clock.ticksMs(),
    _tzset_js: (timezone: number, daylight: number, stdName: number, dstName: number) => {
      const state = current();
      const m = state.memory;
      m.setI32(timezone, 0);
      m.setI32(daylight, 0);
      m.bytes(stdName, 4).set([0x55, 0x54, 0x43, 0]); // "UTC"
      m.bytes(dstName, 4).set([0x55, 0x54, 0x43, 0]);
      state.zoneName.ptr = stdName;
    },
    _localtime_js: (t: bigint, tm: number) => writeTm(current(), Number(t), tm),
    _gmtime_js: (t: bigint, tm: number) => writeTm(current(), Number(t), tm),
    _mktime_js: (tm: number) => timegm(current(), tm),
    _timegm_js: (tm: number) => timegm(current(), tm),
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      const { memory: m, hooks } = current();
      const value = ns(id === CLOCK_REALTIME ? hooks.clock.timeMs() : hooks.clock.ticksMs());
      new DataView(m.bytes(out, 8).buffer, out, 8).setBigUint64(0, value, true);
      return 0;
    },
    clock_res_get: (id: number, out: number) => {
      if (id < 0 || id > 3) return WasiErrno.EINVAL;
      const m = current().memory;
      new DataView(m.bytes(out, 8).buffer, out, 8).setBigUint64(0, 1000n, true);
      return 0;
    },
  };
}

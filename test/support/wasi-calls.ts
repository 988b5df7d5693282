// A module that makes a fixed sequence of WASI calls and prints each errno (one byte each, errno +
// 32), for tests that probe the WASI layer through a real module.
const SIGNATURES: Record<string, string> = {
  path_open: '(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)',
  path_symlink: '(param i32 i32 i32 i32 i32) (result i32)',
  path_rename: '(param i32 i32 i32 i32 i32 i32) (result i32)',
  path_link: '(param i32 i32 i32 i32 i32 i32 i32) (result i32)',
  path_create_directory: '(param i32 i32 i32) (result i32)',
  path_filestat_set_times: '(param i32 i32 i32 i32 i64 i64 i32) (result i32)',
  fd_filestat_set_times: '(param i32 i64 i64 i32) (result i32)',
  fd_filestat_set_size: '(param i32 i64) (result i32)',
  fd_allocate: '(param i32 i64 i64) (result i32)',
  fd_write: '(param i32 i32 i32 i32) (result i32)',
};

/** An argument: a string (its pointer and length), an i32, an i64, or the i32 stored at an address. */
export type Arg = { s: string } | number | { l: bigint | number } | { at: number };
export type Call = [name: string, ...args: Arg[]];

/** Where a call may store an i32 result (path_open's descriptor) for a later `{ at }`. */
export const OUT = 512;

export function callsModule(calls: readonly Call[]): string {
  let data = '';
  let at = 1024;
  const str = (s: string) => {
    const p = at;
    data += `(data (i32.const ${p}) "${s}")`;
    at += Buffer.byteLength(s) + 8;
    return [`(i32.const ${p})`, `(i32.const ${Buffer.byteLength(s)})`];
  };
  const arg = (x: Arg): string[] => {
    if (typeof x === 'number') return [`(i32.const ${x})`];
    if ('s' in x) return str(x.s);
    if ('l' in x) return [`(i64.const ${x.l})`];
    return [`(i32.load (i32.const ${x.at}))`];
  };
  const body = calls.map(([name, ...args], i) => `(i32.store8 (i32.const ${100 + i}) (i32.add (i32.const 32) (call $${name} ${args.flatMap(arg).join(' ')})))`);
  const imports = Object.entries(SIGNATURES).map(([n, sig]) => `(import "wasi_snapshot_preview1" "${n}" (func $${n} ${sig}))`);
  return `(module ${imports.join('\n')} (memory (export "memory") 1) ${data}
    (func (export "_start") ${body.join('\n')}
      (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const ${calls.length}))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;
}

/** The errnos a callsModule run printed. */
export const errnosOf = (stdout: string): number[] => [...stdout].map((c) => c.charCodeAt(0) - 32);

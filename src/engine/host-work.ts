// Fuel for work the host does on the guest's behalf in a syscall or a host-channel call, so that a call that costs the guest
// a few instructions but the host much (listing a directory of a million entries, copying megabytes)
// is paid for and meets the deadline check (FuelMeter.charge). Rates are fixed numbers applied to
// counts of entries and bytes, never to measured time, so fuel stays deterministic. They follow the
// one meter's calibration (BENCHMARKS.md: 7.6e9 to 1.5e10 units per CPU-second of guest code on a
// 2-core machine): roughly ten units per nanosecond of host work, rounded up.
export const HOST_WORK_FUEL = {
  /** Every file syscall: decoding it, the VFS lookup, the answer (~1-2 µs measured for stat). */
  syscall: 10_000,
  /** Each byte of a path read from guest memory (a path is scanned up to its NUL). */
  pathByte: 10,
  /** Each entry of a directory opened for listing (listing, copying out: ~0.2-0.9 µs each). */
  dirEntry: 10_000,
  /** Each directory record written by getdents. */
  direntRecord: 500,
  /** Each byte read from a file into guest memory (a copy: ~0.1-0.2 ns a byte). */
  readByte: 2,
  /** Each byte written to a file (copy, buffer growth: ~3 ns a byte in memory). */
  writeByte: 30,
  /** Each byte of stdout and stderr (copy, decoding, delivery to the embedder). */
  outputByte: 30,
  /** Each byte of a host-channel request (decoding, checking, parsing: ~2-4 ns a byte). */
  channelByte: 40,
  /** A big int's conversion to text (build/passes/mpz-format.ts): reading it, BigInt's parse. */
  bigIntFormat: 20_000,
  /** Each 16-bit digit of it (BigInt's toString and the copies: ~0.5-0.9 µs a digit measured). */
  bigIntFormatDigit: 8_000,
} as const;

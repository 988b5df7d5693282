// Values of CLI flags, one parser each: sizes (16MiB, 16MB), durations (300ms, 2s), counts (2000000,
// 2e6, 10_000) and ports.
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
/** `m` alone means minutes in durations, and would be ambiguous in sizes (MB or MiB?). */
const AMBIGUOUS_SIZE_UNITS: Record<string, string> = { k: 'KiB or KB', m: 'MiB or MB', g: 'GiB or GB' };
const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function scaled(text: string, units: Record<string, number>, what: string, example: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? units[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error(`invalid ${what} "${text}" (e.g. ${example})`);
  const value = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(value)) throw new Error(`${what} "${text}" is too large`);
  return value;
}

/** Bytes: B, decimal KB/MB/GB (1000) or binary KiB/MiB/GiB (1024); a bare number is bytes. */
export function parseSize(text: string): number {
  const suffix = /^\s*\d+(?:\.\d+)?\s*([a-z]+)\s*$/i.exec(text)?.[1].toLowerCase();
  if (suffix !== undefined && suffix in AMBIGUOUS_SIZE_UNITS) {
    throw new Error(`size "${text}" is ambiguous: say ${AMBIGUOUS_SIZE_UNITS[suffix]}`);
  }
  return scaled(text, SIZE_UNITS, 'size', '512KiB, 16MiB or 16MB');
}

/** Milliseconds, from ms, s or m (minutes). A bare number is refused: 2 could mean 2 s or 2 ms. */
export function parseDuration(text: string): number {
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) throw new Error(`duration "${text}" needs a unit: ${text.trim()}s or ${text.trim()}ms`);
  return scaled(text, TIME_UNITS, 'duration', '300ms or 2s');
}

/** A whole number of at least `min` (default 1); underscores and exponents allowed (2_000_000, 2e6). */
export function parseCount(text: string, min = 1): number {
  const value = Number(text.replace(/_/g, ''));
  if (!/^[\d_.e+]+$/i.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`invalid count "${text}" (a whole number from ${min}, e.g. ${min === 0 ? 0 : 2000000} or 2e6)`);
  }
  return value;
}

export function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new Error(`expected a port from 0 to 65535, got "${text}"`);
  return Number(text);
}

// Values of CLI flags: sizes (16MiB), durations (300ms, 2s) and counts (2000000, 2e6, 10_000).
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};
const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function scaled(text: string, units: Record<string, number>, what: string, example: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? units[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error(`invalid ${what} "${text}" (e.g. ${example})`);
  const value = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(value)) throw new Error(`${what} "${text}" is too large`);
  return value;
}

/** Bytes, with binary units B, KiB, MiB, GiB. */
export function parseSize(text: string): number {
  return scaled(text, SIZE_UNITS, 'size', '512KiB or 16MiB');
}

/** Milliseconds, from ms, s or m; a bare number is seconds. */
export function parseDuration(text: string): number {
  const bare = /^\s*\d+(\.\d+)?\s*$/.test(text);
  return scaled(bare ? `${text}s` : text, TIME_UNITS, 'duration', '300ms or 2s');
}

/** A positive whole number; underscores and exponents allowed (2_000_000, 2e6). */
export function parseCount(text: string): number {
  const value = Number(text.replace(/_/g, ''));
  if (!/^[\d_.e+]+$/i.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`invalid count "${text}" (a positive whole number, e.g. 2000000 or 2e6)`);
  }
  return value;
}

// The data format of the host-function bridge, host side (the guest side is `bridge.enc/dec`
// in prelude.ts). JSON, with every dict and every value JSON cannot carry wrapped in a one-key tag
// object: {"$dict": {...}}, {"$tuple": [...]}, {"$bytes": hex}, {"$int": digits}, {"$float": repr}.
// Only data crosses: anything else is refused with a TypeError, never passed by reference.

/** What a host function may receive and return. */
export type HostValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | HostValue[]
  | { [key: string]: HostValue };

/** Deepest nesting of lists, tuples and dicts passed either way (the guest's bridge uses the same). */
export const MAX_DEPTH = 64;
/** Most digits of an int passed to the host (decoding an int costs time quadratic in its digits). */
export const MAX_INT_DIGITS = 10_000;
/**
 * Dict keys refused on the way in: in JavaScript they act on prototypes when host code merges or
 * assigns (`Object.assign(target, arg)` with "__proto__" sets target's prototype; a recursive merge
 * follows "constructor" then "prototype" to Object.prototype). Refusing them is the one answer that
 * keeps every host-side way of copying an argument safe.
 */
export const REFUSED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A Python tuple on the host: an array that goes back to the guest as a tuple again. */
export class Tuple<T = HostValue> extends Array<T> {}

/** A value the host cannot hand to the guest: becomes a TypeError in Python. */
export class HostValueError extends TypeError {}

/** A value over a size, depth or key rule of the boundary (either way): becomes a ValueError in Python. */
export class WireLimitError extends RangeError {}

type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A host value to its wire form (for the guest). `open`: the containers being encoded (cycles). */
export function toWire(value: unknown, depth = 0, open: Set<object> = new Set()): Wire {
  if (depth > MAX_DEPTH) throw new WireLimitError(`value nested more than ${MAX_DEPTH} levels deep cannot be passed to the sandbox`);
  if (typeof value === 'object' && value !== null) {
    if (open.has(value)) throw new WireLimitError('a cyclic value cannot be passed to the sandbox');
    open.add(value);
    try {
      return objectToWire(value, depth, open);
    } finally {
      open.delete(value);
    }
  }
  return scalarToWire(value);
}

function scalarToWire(value: unknown): Wire {
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (Number.isSafeInteger(value)) return value;
      if (Number.isFinite(value)) return Number.isInteger(value) ? { $float: value.toPrecision(17) } : value;
      return { $float: Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf' };
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : { $int: value.toString() };
    default:
      if (value === null) return null;
      throw new HostValueError(`cannot pass a ${typeof value} to the sandbox`);
  }
}

function objectToWire(value: object, depth: number, open: Set<object>): Wire {
  if (Array.isArray(value)) {
    const items = Array.from(value, (v) => toWire(v, depth + 1, open));
    return value instanceof Tuple ? { $tuple: items } : items;
  }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex') };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString('hex') };
  if (isPlainObject(value)) {
    const out: Record<string, Wire> = Object.create(null); // so a key "__proto__" stays a key
    for (const key of Object.keys(value)) out[key] = toWire(value[key], depth + 1, open);
    return { $dict: out };
  }
  const name = value.constructor?.name ?? 'object';
  throw new HostValueError(`cannot pass a ${name} to the sandbox (only null, boolean, number, bigint, string, Uint8Array, arrays and plain objects)`);
}

const DIGITS = /^-?[0-9]+$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function tagged<T>(wire: Record<string, Wire>, tag: string, type: string): T {
  const value = wire[tag];
  if (typeof value !== type && !(type === 'array' && Array.isArray(value))) throw new HostValueError('malformed value from the sandbox');
  return value as T;
}

/**
 * A wire value from the guest to a host value: ints beyond 2^53 become bigint, tuples arrays, bytes
 * Uint8Array. Checked as it goes (the gate in host-call-gate.ts bounded nesting and size already).
 */
export function fromWire(wire: Wire): HostValue {
  if (wire === null || typeof wire !== 'object') return wire;
  if (Array.isArray(wire)) return wire.map(fromWire);
  if ('$dict' in wire) {
    const src = wire.$dict;
    if (typeof src !== 'object' || src === null || Array.isArray(src)) throw new HostValueError('malformed value from the sandbox');
    const out: Record<string, HostValue> = {};
    for (const key of Object.keys(src)) {
      if (REFUSED_KEYS.has(key)) {
        throw new WireLimitError(`the dict key '${key}' cannot be passed to the host (__proto__, constructor and prototype are refused)`);
      }
      out[key] = fromWire(src[key]);
    }
    return out;
  }
  if ('$tuple' in wire) return Tuple.from(tagged<Wire[]>(wire, '$tuple', 'array'), fromWire);
  if ('$bytes' in wire) {
    const hex = tagged<string>(wire, '$bytes', 'string');
    if (!HEX.test(hex)) throw new HostValueError('malformed bytes from the sandbox');
    return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  if ('$int' in wire) {
    const digits = tagged<string>(wire, '$int', 'string');
    if (digits.length - (digits.startsWith('-') ? 1 : 0) > MAX_INT_DIGITS) throw new WireLimitError(`an int passed to the host may have at most ${MAX_INT_DIGITS} digits`);
    if (!DIGITS.test(digits)) throw new HostValueError('malformed int from the sandbox');
    return BigInt(digits);
  }
  if ('$float' in wire) return parseGuestFloat(tagged<string>(wire, '$float', 'string'));
  throw new HostValueError('malformed value from the sandbox');
}

function parseGuestFloat(text: string): number {
  if (text === 'nan' || text === '-nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

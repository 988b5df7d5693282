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

const MAX_DEPTH = 100;

/** A Python tuple on the host: an array that goes back to the guest as a tuple again. */
export class Tuple<T = HostValue> extends Array<T> {}

/** A value the host cannot hand to the guest: becomes a TypeError in Python. */
export class HostValueError extends TypeError {}

type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A host value to its wire form (for the guest). */
export function toWire(value: unknown, depth = 0): Wire {
  if (depth > MAX_DEPTH) throw new HostValueError('value nested too deeply to pass to the sandbox');
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
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const items = Array.from(value, (v) => toWire(v, depth + 1));
        return value instanceof Tuple ? { $tuple: items } : items;
      }
      if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex') };
      if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString('hex') };
      if (isPlainObject(value)) {
        const out: Record<string, Wire> = Object.create(null); // so a key "__proto__" stays a key
        for (const key of Object.keys(value)) out[key] = toWire(value[key], depth + 1);
        return { $dict: out };
      }
      const name = (value as object).constructor?.name ?? 'object';
      throw new HostValueError(`cannot pass a ${name} to the sandbox (only null, boolean, number, bigint, string, Uint8Array, arrays and plain objects)`);
    }
    default:
      throw new HostValueError(`cannot pass a ${typeof value} to the sandbox`);
  }
}

/** A wire value from the guest to a host value: ints beyond 2^53 become bigint, tuples arrays, bytes Uint8Array. */
export function fromWire(wire: Wire): HostValue {
  if (wire === null || typeof wire !== 'object') return wire;
  if (Array.isArray(wire)) return wire.map(fromWire);
  if ('$dict' in wire) {
    const src = wire.$dict as Record<string, Wire>;
    const out: Record<string, HostValue> = {};
    for (const key of Object.keys(src)) {
      // A guest key "__proto__" must stay a plain own property, not set the prototype.
      Object.defineProperty(out, key, { value: fromWire(src[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if ('$tuple' in wire) return Tuple.from(wire.$tuple as Wire[], fromWire);
  if ('$bytes' in wire) return new Uint8Array(Buffer.from(wire.$bytes as string, 'hex'));
  if ('$int' in wire) return BigInt(wire.$int as string);
  if ('$float' in wire) return parseGuestFloat(wire.$float as string);
  throw new HostValueError('malformed value from the sandbox');
}

function parseGuestFloat(text: string): number {
  if (text === 'nan' || text === '-nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

// The value of a run's last expression for a wire reader: as JSON data, and as Python would show it.
// Ints beyond 2^53 become decimal strings in the data, bytes base64 strings, tuples arrays; the repr
// keeps them apart. The guest hands over data only, so a float with an integral value (2.0) reads
// as an int (2) in both.
import type { HostValue } from '../../capabilities/host-codec.js';
import { Tuple } from '../../capabilities/host-codec.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function valueJson(v: HostValue): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(valueJson);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, valueJson(x)]));
}

const pyString = (s: string) => {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"');
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
};

function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

function bytesRepr(b: Uint8Array): string {
  let out = "b'";
  for (const c of b) {
    if (c === 0x27 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out + "'";
}

export function pythonRepr(v: HostValue): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return floatRepr(v);
  if (typeof v === 'string') return pyString(v);
  if (v instanceof Uint8Array) return bytesRepr(v);
  if (v instanceof Tuple) return v.length === 1 ? `(${pythonRepr(v[0])},)` : `(${v.map(pythonRepr).join(', ')})`;
  if (Array.isArray(v)) return `[${v.map(pythonRepr).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${pyString(k)}: ${pythonRepr(x)}`).join(', ')}}`;
}

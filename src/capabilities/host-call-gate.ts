// The host channel's gate: what a request from the guest must pass before any of it is decoded.
// In order: its size, the function it names (granted?), the nesting and number of its containers,
// then decoding with per-value bounds (host-codec.ts). Every step is linear in the request's size and
// refuses with a Python exception naming the limit. Runs on the thread where the guest runs (a worker
// sandbox's worker), so a hostile request costs the guest's own thread, never the main thread.
import { HOST_REQUEST_MAX_BYTES } from '../engine/host.js';
import { fromWire, HostValueError, MAX_DEPTH, WireLimitError, type HostValue } from './host-codec.js';

/** Largest request the host reads from the guest, in bytes (JSON; bytes travel as hex, so half that). */
export const MAX_REQUEST_BYTES = HOST_REQUEST_MAX_BYTES;
/** Most lists, tuples and dicts one request may hold (each costs the host an object). */
export const MAX_CONTAINERS = 250_000;
/**
 * JSON nesting that values of MAX_DEPTH levels need: the request and its argument list, then up to
 * two levels per value level ({"$dict": {...}}), one for a tag around a leaf, one for keyword arguments.
 */
const MAX_WIRE_DEPTH = 2 + 2 * (MAX_DEPTH + 1) + 2;

/** Module -> names of granted functions (host functions and the sandbox's own, e.g. the network). */
export type GrantedNames = Record<string, readonly string[]>;

export type GateError = { error: [string, string] };

export interface DecodedCall {
  module: string;
  name: string;
  /** Positional arguments, then keyword arguments as one last plain object (if any were given). */
  args: HostValue[];
}

// The guest's bridge sends json.dumps([module, name, args, kwargs]): the names come first, so they can
// be checked from a short prefix before the rest is looked at. Granted names are identifiers.
const TARGET = /^\[\s*"([A-Za-z_][A-Za-z0-9_]{0,99})"\s*,\s*"([A-Za-z_][A-Za-z0-9_]{0,99})"\s*,/;

const malformed = (): GateError => ({ error: ['ValueError', 'malformed host call'] });

/** null if the request's containers are within bounds, else why not. Strings are skipped. */
export function wireShapeProblem(text: string): string | null {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_WIRE_DEPTH) return `a value passed to the host is nested more than ${MAX_DEPTH} levels deep`;
      if (++containers > MAX_CONTAINERS) return `a host call may pass at most ${MAX_CONTAINERS} lists, tuples and dicts`;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return null;
}

export class HostCallGate {
  private readonly granted: Map<string, Set<string>>;

  constructor(granted: GrantedNames) {
    this.granted = new Map(Object.entries(granted).map(([mod, fns]) => [mod, new Set(fns)]));
  }

  /**
   * A request to the call it names, decoded, or the Python exception that refuses it. `request` null:
   * the guest sent more than MAX_REQUEST_BYTES, which the engine did not read.
   */
  decode(request: string | null): DecodedCall | GateError {
    if (request === null || request.length > MAX_REQUEST_BYTES) {
      return { error: ['ValueError', `a host call may carry at most ${MAX_REQUEST_BYTES} bytes of arguments (JSON, bytes as hex)`] };
    }
    const target = TARGET.exec(request.slice(0, 256));
    if (!target) return malformed();
    const [, module, name] = target;
    if (!this.granted.get(module)?.has(name)) {
      return { error: ['AttributeError', `host module '${module}' has no function '${name}'`] };
    }
    const shape = wireShapeProblem(request);
    if (shape) return { error: ['ValueError', shape] };
    let parsed: unknown;
    try {
      parsed = JSON.parse(request);
    } catch {
      return malformed();
    }
    if (!Array.isArray(parsed) || parsed.length !== 4) return malformed();
    const [, , rawArgs, rawKwargs] = parsed as [string, string, unknown, unknown];
    try {
      if (!Array.isArray(rawArgs)) throw new HostValueError('malformed arguments');
      const args = rawArgs.map((a) => fromWire(a));
      if (rawKwargs !== null) {
        const kwargs = fromWire(rawKwargs as never);
        if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs) || kwargs instanceof Uint8Array) {
          throw new HostValueError('malformed keyword arguments');
        }
        args.push(kwargs); // keyword arguments: one options object
      }
      return { module, name, args };
    } catch (e) {
      if (e instanceof WireLimitError) return { error: ['ValueError', e.message] };
      if (e instanceof HostValueError) return { error: ['TypeError', e.message] };
      return malformed();
    }
  }
}

// A decoded host call on its way from a worker sandbox's thread to the main thread (which owns the
// host functions). The worker decodes and checks the request (host-call-gate.ts); what crosses is
// structured-cloned, so that the main thread never parses guest text. Structured cloning keeps
// bigint, Uint8Array, arrays and Maps but not the Tuple class: dicts travel as Maps, tuples as the
// only plain objects, and the main thread turns them back with one walk.
import type { AuditEvent } from '../core/audit.js';
import { Tuple, type HostValue } from '../capabilities/host-codec.js';
import type { DecodedCall } from '../capabilities/host-call-gate.js';

type Carried = null | undefined | boolean | number | bigint | string | Uint8Array | Carried[] | Map<string, Carried> | { tuple: Carried[] };

export interface CarriedCall {
  module: string;
  name: string;
  args: Carried[];
}

function carry(v: HostValue): Carried {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
  if (v instanceof Tuple) return { tuple: v.map(carry) };
  if (Array.isArray(v)) return v.map(carry);
  return new Map(Object.entries(v).map(([k, x]) => [k, carry(x)]));
}

function unpack(v: Carried): HostValue {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(unpack);
  if (v instanceof Map) {
    const out: Record<string, HostValue> = {};
    for (const [k, x] of v) out[k] = unpack(x); // keys were checked by the gate (no "__proto__")
    return out;
  }
  return Tuple.from(v.tuple, unpack);
}

/** The main thread's answer: the reply for the guest, and what it refused (for the run's audit). */
export interface CarriedAnswer {
  reply: string;
  refused: AuditEvent[];
}

export function carryCall(call: DecodedCall): CarriedCall {
  return { module: call.module, name: call.name, args: call.args.map(carry) };
}

export function unpackCall(call: CarriedCall): DecodedCall {
  return { module: call.module, name: call.name, args: call.args.map(unpack) };
}

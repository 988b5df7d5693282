// Values passed to an invoked export, converted to its parameter types (the JS API has no types).
import { UsageError } from '../../core/errors.js';
import type { ValueType } from '../../instrument/meter.js';
import type { WasmValue } from './result.js';

export function convertArg(value: unknown, type: ValueType, index: number): WasmValue {
  try {
    if (type === 'i64') return BigInt.asIntN(64, BigInt(value as string | number | bigint));
    if (type === 'i32') {
      const n = typeof value === 'bigint' ? Number(BigInt.asIntN(32, value)) : Number(value);
      if (!Number.isInteger(n)) throw new Error();
      return n | 0;
    }
    if (type === 'f32' || type === 'f64') {
      const n = Number(value);
      if (Number.isNaN(n) && String(value).toLowerCase() !== 'nan') throw new Error();
      return n;
    }
  } catch {
    throw new UsageError(`argument ${index + 1} must be an ${type}, got "${String(value)}"`);
  }
  throw new UsageError(`argument ${index + 1} has type ${type}, which cannot be passed from the host`);
}

// Meters an interpreter's module at build time with the one meter of the fence (src/instrument/
// meter.ts, its trusted mode): the module is emitted (with its names, which the build's later passes
// and the bake find things by), rewritten, and read back, so that binaryen's optimizer runs over the
// metered code afterwards and can fold the meter's local arithmetic. The optimizer preserves every
// write of the fuel global and every call of the host, so the charges stay where the meter put them.
import binaryen from 'binaryen';
import { meterTrustedBinary, type MeterReport } from '../src/instrument/meter.js';
import type { Module } from './wasm-inspect.js';

export function meterModule(m: Module): { module: Module; report: MeterReport & { ms: number } } {
  const t0 = performance.now();
  const features = m.getFeatures();
  const debugInfo = binaryen.getDebugInfo();
  binaryen.setDebugInfo(true); // keep the name section through the round trip
  const bytes = m.emitBinary();
  binaryen.setDebugInfo(debugInfo);
  m.dispose();
  const metered = meterTrustedBinary(bytes);
  const out = binaryen.readBinary(metered.bytes);
  out.setFeatures(features);
  return { module: out, report: { ...metered.report, ms: Math.round(performance.now() - t0) } };
}

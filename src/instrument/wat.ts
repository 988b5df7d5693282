// .wat text to a binary module, with binaryen's text parser: the only use of binaryen at load time,
// loaded on first use (in the instrumenting worker). The binary then goes through the same feature
// check and metering as any other module (meter.ts): binaryen parses every feature it knows.
import type binaryenT from 'binaryen';
import { RefusedModule } from './meter.js';

export function watBinary(b: typeof binaryenT, text: string): Uint8Array {
  let m: binaryenT.Module;
  try {
    m = b.parseText(text);
  } catch (e) {
    throw new RefusedModule(`invalid .wat: ${(e as Error).message ?? e}`);
  }
  try {
    // Every feature the text may use is parsed and emitted (the check refuses them by name), but
    // with the encodings of the fence's: GC's typed forms of funcref/externref and compact imports
    // would otherwise turn plain modules into refused ones.
    const F = b.Features as typeof b.Features & Record<string, number>;
    m.setFeatures(F.All & ~(F.CompactImports ?? 0) & ~F.GC & ~F.Strings & ~F.StackSwitching & ~F.SharedEverything);
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

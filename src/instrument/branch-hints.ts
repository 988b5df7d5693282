// Branch hints for the meter's checks: a `metadata.code.branch_hint` custom section that marks each
// `if` of a fuel check as unlikely taken. The check's arm calls the host (`fuel_exhausted`), and a
// call clobbers every register: V8's optimizing compiler, not knowing the arm is rare, kept values
// live across it in stack slots on the hot path too. Hinted, it compiles the arm as deferred code,
// spilling there only. Measured on MicroPython (BENCHMARKS.md): the overhead from about +25% to +15%.
// Node 20's V8 reads the section only under --experimental-wasm-branch-hinting, which the library
// does not set (a host's V8 flags are its own): the process running the guest must. Without it the
// section is skipped and nothing else about the module changes: hints never change what it computes.
import { FUEL_EXHAUSTED_IMPORT, HOST_IMPORT_MODULE } from '../engine/abi.js';
import { ByteWriter, readUleb, wasmName, wasmSection } from '../engine/wasm-binary.js';
import { decodeBodies } from './decoded-code.js';
import { Kind } from './instructions.js';
import { readSections, SectionId } from './sections.js';

export const BRANCH_HINT_SECTION = 'metadata.code.branch_hint';
const UNLIKELY = 0;

/**
 * `bytes` (a metered module: the build's, after its last optimization) with every fuel check's `if`
 * hinted unlikely: an `if` without `else` whose arm calls the fuel import and nothing else and has
 * no loop (the check itself, and a loop header's `if` around a settle and its check; a guest `if`
 * that merely holds a check, around a loop or beside another call, is left alone). The section is
 * placed before the code section, as V8 requires. A module without the fuel import is returned as it is.
 */
export function hintFuelChecks(bytes: Uint8Array): { bytes: Uint8Array; hints: number } {
  const m = readSections(bytes, true);
  let exhausted = -1;
  for (let i = 0, f = 0; i < m.imports.length; i++) {
    const imp = m.imports[i];
    if (imp.kind !== 0) continue;
    if (imp.module === HOST_IMPORT_MODULE && imp.name === FUEL_EXHAUSTED_IMPORT) exhausted = f;
    f++;
  }
  const code = m.sections.find((s) => s.id === SectionId.Code);
  if (exhausted < 0 || !code) return { bytes, hints: 0 };
  if (m.sections.some((s) => s.id === SectionId.Custom && s.name === BRANCH_HINT_SECTION)) {
    throw new Error(`the module already has a ${BRANCH_HINT_SECTION} section`);
  }
  const n = readUleb(bytes, code.start);
  const decoded = decodeBodies(bytes, n.next, code.end, n.value, true);
  const { starts, kinds, indices, first } = decoded;
  const payload = new ByteWriter();
  let functions = 0;
  let hints = 0;
  const offsets: number[] = [];
  // Per open block: the start of an `if` still a candidate (-1: not an `if`, or ruled out), and
  // whether its arm has called the fuel import.
  let open = new Int32Array(64);
  let calls = new Uint8Array(64);
  let at = n.next;
  for (let f = 0; f < n.value; f++) {
    const size = readUleb(bytes, at);
    const bodyStart = size.next;
    at = size.next + size.value;
    offsets.length = 0;
    let top = 0;
    for (let i = first[f]; i < first[f + 1]; i++) {
      switch (kinds[i]) {
        case Kind.If:
        case Kind.Block:
        case Kind.Loop:
        case Kind.Try:
          if (top === open.length) {
            const [o, c] = [new Int32Array(top * 2), new Uint8Array(top * 2)];
            o.set(open);
            c.set(calls);
            [open, calls] = [o, c];
          }
          if (kinds[i] === Kind.Loop) open.fill(-1, 0, top); // an arm with a loop is no check
          open[top] = kinds[i] === Kind.If ? starts[i] : -1;
          calls[top++] = 0;
          break;
        case Kind.Else:
          open[top - 1] = -1;
          break;
        case Kind.Call:
          if (indices[i] === exhausted) calls.fill(1, 0, top);
          else open.fill(-1, 0, top);
          break;
        case Kind.CallIndirect:
        case Kind.ReturnCall:
        case Kind.ReturnCallIndirect:
          open.fill(-1, 0, top);
          break;
        case Kind.End:
        case Kind.Delegate:
          if (top === 0) break; // the function's own end
          top--;
          if (open[top] >= 0 && calls[top]) offsets.push(open[top] - bodyStart);
          break;
      }
    }
    if (offsets.length) {
      // In code order, as the section requires: an inner `if` ends, and was found, before its outer one.
      offsets.sort((a, b) => a - b);
      payload.uleb(m.funcImports + f);
      payload.uleb(offsets.length);
      for (const offset of offsets) {
        payload.uleb(offset);
        payload.uleb(1);
        payload.byte(UNLIKELY);
      }
      functions++;
      hints += offsets.length;
    }
  }
  if (!hints) return { bytes, hints: 0 };
  const body = new ByteWriter();
  body.uleb(functions);
  body.append(payload);
  const section = wasmSection(SectionId.Custom, [...wasmName(BRANCH_HINT_SECTION), ...body.view()]);
  // Sections are copied as they are; the hints go right before the code section.
  const out = new ByteWriter(bytes.length + section.length);
  out.span(bytes, 0, 8);
  for (let p = 8; p < bytes.length; ) {
    const len = readUleb(bytes, p + 1);
    const end = len.next + len.value;
    if (bytes[p] === SectionId.Code) out.bytes(section);
    out.span(bytes, p, end);
    p = end;
  }
  return { bytes: out.view(), hints };
}

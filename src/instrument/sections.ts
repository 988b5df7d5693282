// A module's sections, decoded as far as the metering rewrite needs: types, imports, function types,
// limits of tables and memories, and where every other section's payload lies. Everything outside
// the fence's feature set is refused by name here (shared memories, 64-bit memories, more than one
// memory, tags, GC types) or in instructions.ts (instructions).
import { readUleb } from '../engine/wasm-binary.js';
import { checkValueType, UnsupportedFeature } from './instructions.js';

export enum SectionId {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Table = 4,
  Memory = 5,
  Global = 6,
  Export = 7,
  Start = 8,
  Element = 9,
  Code = 10,
  Data = 11,
  DataCount = 12,
  Tag = 13,
}

export interface FuncType {
  params: number[];
  results: number[];
}

export interface Section {
  id: number;
  /** The payload's bounds in the module's bytes. */
  start: number;
  end: number;
  /** Custom sections: the name. */
  name?: string;
}

export interface Import {
  module: string;
  name: string;
  kind: number;
  /** Functions: the type index. */
  type: number;
}

export interface Limits {
  initial: number;
  maximum: number | null;
}

export interface ModuleSections {
  bytes: Uint8Array;
  sections: Section[];
  types: FuncType[];
  imports: Import[];
  funcImports: number;
  /** The type index of each defined function. */
  funcTypes: number[];
  tables: Limits[];
  memory: Limits | null;
}

/** A structural error: the module is malformed (V8 names it better; see meter.ts). */
export class Malformed extends Error {}

const decoder = new TextDecoder('utf-8', { fatal: true });

export class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
    readonly end: number,
  ) {}

  /** As readUleb, without an object per number (see readU32 in instructions.ts). */
  u32(): number {
    if (this.at >= this.end) throw new Malformed('unexpected end of section');
    const bytes = this.bytes;
    let at = this.at;
    let byte = bytes[at++];
    let value = byte & 0x7f;
    for (let shift = 7; byte & 0x80; shift += 7) {
      byte = bytes[at++];
      value = shift < 28 ? value | ((byte & 0x7f) << shift) : value + (byte & 0x7f) * 2 ** shift;
    }
    this.at = at;
    return value;
  }

  byte(): number {
    if (this.at >= this.end) throw new Malformed('unexpected end of section');
    return this.bytes[this.at++];
  }

  name(): string {
    const n = this.u32();
    if (this.at + n > this.end) throw new Malformed('name runs past its section');
    const s = decoder.decode(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
}

function limits(c: Cursor, what: 'memory' | 'table'): Limits {
  const flags = c.byte();
  if (flags & 0x04) throw new UnsupportedFeature(what === 'memory' ? 'memory64 (64-bit memories)' : 'table64 (64-bit tables)');
  if (flags & 0x02) throw new UnsupportedFeature('threads (shared memory)');
  if (flags & ~0x01) throw new UnsupportedFeature(`${what} limits flags 0x${flags.toString(16)}`);
  const initial = c.u32();
  return { initial, maximum: flags & 1 ? c.u32() : null };
}

function tableType(c: Cursor): Limits {
  const ref = c.byte();
  if (ref === 0x40) throw new UnsupportedFeature('typed function references (table initializers)');
  if (ref !== 0x70 && ref !== 0x6f) checkValueType(ref);
  return limits(c, 'table');
}

/**
 * Reads the section layout, and decodes what the rewrite needs. `exceptions`: accept tags (the
 * interpreters' trusted builds use exception handling; a guest module is refused it).
 */
export function readSections(bytes: Uint8Array, exceptions = false): ModuleSections {
  if (bytes.length < 8 || bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new Malformed('not a WebAssembly 1.0 binary');
  const out: ModuleSections = { bytes, sections: [], types: [], imports: [], funcImports: 0, funcTypes: [], tables: [], memory: null };
  let memories = 0;
  const addMemory = (l: Limits) => {
    if (++memories > 1) throw new UnsupportedFeature('multi-memory');
    out.memory = l;
  };
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const size = readUleb(bytes, at + 1);
    const start = size.next;
    const end = start + size.value;
    if (end > bytes.length) throw new Malformed('section runs past the end');
    const section: Section = { id, start, end };
    const c = new Cursor(bytes, start, end);
    switch (id) {
      case SectionId.Custom:
        section.name = c.name();
        break;
      case SectionId.Type:
        for (let n = c.u32(); n > 0; n--) {
          const form = c.byte();
          if (form !== 0x60) throw new UnsupportedFeature(form === 0x5e || form === 0x5f || form === 0x50 || form === 0x4f || form === 0x4e ? 'GC types' : `type form 0x${form.toString(16)}`);
          const vec = () => {
            const v: number[] = [];
            for (let k = c.u32(); k > 0; k--) {
              const t = c.byte();
              checkValueType(t);
              v.push(t);
            }
            return v;
          };
          const params = vec();
          out.types.push({ params, results: vec() });
        }
        break;
      case SectionId.Import:
        for (let n = c.u32(); n > 0; n--) {
          const imp: Import = { module: c.name(), name: c.name(), kind: c.byte(), type: -1 };
          if (imp.kind === 0) {
            imp.type = c.u32();
            out.funcImports++;
          } else if (imp.kind === 1) out.tables.push(tableType(c));
          else if (imp.kind === 2) addMemory(limits(c, 'memory'));
          else if (imp.kind === 3) {
            checkValueType(c.byte());
            c.byte();
          } else if (imp.kind === 4 && exceptions) {
            c.byte(); // attribute: exception
            c.u32(); // type
          } else if (imp.kind === 4) throw new UnsupportedFeature('exception handling (tags)');
          else throw new Malformed(`unknown import kind ${imp.kind}`);
          out.imports.push(imp);
        }
        break;
      case SectionId.Function:
        for (let n = c.u32(); n > 0; n--) out.funcTypes.push(c.u32());
        break;
      case SectionId.Table:
        for (let n = c.u32(); n > 0; n--) out.tables.push(tableType(c));
        break;
      case SectionId.Memory:
        for (let n = c.u32(); n > 0; n--) addMemory(limits(c, 'memory'));
        break;
      case SectionId.Tag:
        if (!exceptions) throw new UnsupportedFeature('exception handling (tags)');
        break;
      case SectionId.Global:
      case SectionId.Export:
      case SectionId.Start:
      case SectionId.Element:
      case SectionId.Code:
      case SectionId.Data:
      case SectionId.DataCount:
        break;
      default:
        throw new UnsupportedFeature(`section id ${id}`);
    }
    out.sections.push(section);
    at = end;
  }
  for (let i = 0; i < out.funcTypes.length; i++) {
    if (out.funcTypes[i] >= out.types.length) throw new Malformed(`function type ${out.funcTypes[i]} out of range`);
  }
  for (const i of out.imports) if (i.kind === 0 && i.type >= out.types.length) throw new Malformed(`function type ${i.type} out of range`);
  return out;
}

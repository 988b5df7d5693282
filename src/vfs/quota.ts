// What a sandbox may still add to a filesystem: bytes and directory entries. Every entry (file or
// directory, even empty) costs a fixed overhead plus its name's bytes, so that names and empty
// entries cannot grow host memory or a host directory without bound.
import { Errno, VfsError } from './errno.js';

/** Bytes one entry costs besides its data: about what a node of the in-memory tree costs on the host. */
export const ENTRY_OVERHEAD_BYTES = 128;

/** The cost of an entry named `name`, against a byte quota. */
export function entryBytes(name: string): number {
  return ENTRY_OVERHEAD_BYTES + Buffer.byteLength(name);
}

/** Bytes and entries in use against their maxima; usage is net (removing an entry gives its cost back). */
export class Quota {
  constructor(
    readonly maxBytes: number,
    readonly maxEntries: number = Infinity,
    public bytes = 0,
    public entries = 0,
  ) {}

  /** Takes `bytes` and `entries` (negative values give back), or fails with ENOSPC taking nothing. */
  take(bytes: number, entries = 0): void {
    if (bytes > 0 && this.bytes + bytes > this.maxBytes) throw new VfsError(Errno.ENOSPC, 'byte quota');
    if (entries > 0 && this.entries + entries > this.maxEntries) throw new VfsError(Errno.ENOSPC, 'entry quota');
    this.bytes += bytes;
    this.entries += entries;
  }

  give(bytes: number, entries = 0): void {
    this.bytes -= bytes;
    this.entries -= entries;
  }

  /** Takes `bytes` and `entries` for `act`, and gives them back if it fails. */
  charged<T>(bytes: number, entries: number, act: () => T): T {
    this.take(bytes, entries);
    try {
      return act();
    } catch (e) {
      this.give(bytes, entries);
      throw e;
    }
  }
}

/** A host entry's stat, as far as its cost goes (Node's Stats or BigIntStats). */
type EntryStats = { isFile(): boolean; isSymbolicLink(): boolean; size: number | bigint; nlink: number | bigint };

/** What an existing host entry gives back when its name goes: the name, and data no other link keeps. */
export function entryCost(name: string, st: EntryStats): number {
  const alone = Number(st.nlink) <= 1;
  const data = st.isSymbolicLink() || (st.isFile() && alone) ? Number(st.size) : 0;
  return entryBytes(name) + data;
}

/** What renaming the entry `from` to `to` changes: its new name's cost for the old, less what an entry replaced at `to` cost. */
export function renameCost(from: string, to: string, replaced: EntryStats | null): { bytes: number; entries: number } {
  return { bytes: entryBytes(to) - entryBytes(from) - (replaced ? entryCost(to, replaced) : 0), entries: replaced ? -1 : 0 };
}

// One descriptor table for both ABIs (the Emscripten syscalls' FileTable and WASI's FdTable): numbers
// to entries that own their open file. A number leaves the table only through close() or renumber(),
// which close the entry's file first; an entry's file owns its host handle (host-fd.ts), so no
// number the guest holds can outlive the file it was given for.
import { Errno, VfsError } from './errno.js';

export class DescriptorTable<T> {
  private readonly entries = new Map<number, T>();

  /**
   * `first`: the lowest number add() gives; `max`: how many entries may be open at once;
   * `closeEntry`: releases what an entry owns.
   */
  constructor(
    private readonly first: number,
    private readonly max: number,
    private readonly closeEntry: (entry: T) => void,
  ) {}

  /** The lowest free number from `first`; EMFILE past `max` (the entry is not closed: the caller still owns it). */
  add(entry: T): number {
    if (this.entries.size >= this.max) throw new VfsError(Errno.EMFILE, 'too many open files');
    let n = this.first;
    while (this.entries.has(n)) n++;
    this.entries.set(n, entry);
    return n;
  }

  /** How many numbers are open. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry; EBADF when `n` is not open. */
  get(n: number): T {
    const entry = this.entries.get(n);
    if (entry === undefined) throw new VfsError(Errno.EBADF, `fd ${n}`);
    return entry;
  }

  close(n: number): void {
    const entry = this.get(n);
    this.entries.delete(n);
    this.closeEntry(entry);
  }

  /** As dup2: `to` is closed first, unless it is `from` itself (then nothing changes). Both must be open. */
  renumber(from: number, to: number): void {
    const entry = this.get(from);
    this.get(to);
    if (from === to) return;
    this.close(to);
    this.entries.delete(from);
    this.entries.set(to, entry);
  }

  /** When the guest is done: every entry closed. */
  closeAll(): void {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) this.closeEntry(entry);
  }
}

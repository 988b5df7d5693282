// The sandbox's filesystem: an in-memory tree with host directories mounted into it. Every guest
// path is normalised inside the tree first; the backend owning its longest mount prefix resolves the
// rest. Nothing else of the host is reachable: "/" lists only what was granted.
import { Errno, VfsError } from './errno.js';
import { HostBackend } from './host-backend.js';
import { PROC_FD_ROUTE, type FdRoute } from './fd-route.js';
import { MemoryBackend } from './memory-backend.js';
import { components, joinPath } from './paths.js';
import { Quota } from './quota.js';
import type { Backend, Handle, OpenFlags, StatInfo } from './types.js';

export interface MountOptions {
  /** Host directory. */
  host: string;
  /** Where it appears in the sandbox, e.g. /data. */
  guest: string;
  /** Default 'ro'. */
  mode?: 'ro' | 'rw';
  /** Bytes the sandbox may add to this mount (rw), entries counted as in FsQuota. Default: the sandbox's fsQuota.bytes. */
  quotaBytes?: number;
}

export interface FsQuota {
  /**
   * Bytes of in-memory files, and the default growth allowed in each rw mount. Every file and
   * directory counts 128 bytes plus its name's UTF-8 bytes besides its data. Default 64 MiB.
   */
  bytes?: number;
  /** Number of in-memory files and directories, and of entries each rw mount may gain. Default 10,000. */
  files?: number;
}

export interface VfsOptions {
  files?: Record<string, string | Uint8Array>;
  mounts?: MountOptions[];
  quota?: FsQuota;
}

export const DEFAULT_FS_QUOTA = { bytes: 64 * 1024 * 1024, files: 10_000 };

interface Mount {
  at: string[];
  backend: Backend;
}

const encoder = new TextEncoder();

export class VirtualFS {
  readonly memory: MemoryBackend;
  private readonly mounts: Mount[] = [];
  cwd = '/';

  /** `route`: how mounts reach directories by descriptor; only tests choose another. */
  constructor(options: VfsOptions = {}, route: FdRoute = PROC_FD_ROUTE) {
    const quota = { ...DEFAULT_FS_QUOTA, ...options.quota };
    this.memory = new MemoryBackend(new Quota(quota.bytes, quota.files));
    for (const m of options.mounts ?? []) {
      const at = components(m.guest);
      if (at.length === 0) throw new Error('a mount cannot replace the root directory');
      if (this.mounts.some((x) => joinPath(x.at) === joinPath(at))) throw new Error(`two mounts at ${joinPath(at)}`);
      this.memory.mountPoint(at); // shows in its parent's listing
      const backend = new HostBackend({ host: m.host, mode: m.mode ?? 'ro', quota: new Quota(m.quotaBytes ?? quota.bytes, quota.files) }, route);
      this.mounts.push({ at, backend });
    }
    this.mounts.sort((a, b) => b.at.length - a.at.length); // longest prefix first
    for (const [path, data] of Object.entries(options.files ?? {})) {
      const rel = components(path);
      if (this.mounts.some((m) => m.at.every((p, i) => rel[i] === p))) throw new Error(`file ${path} is inside a mount`);
      this.memory.put(rel, typeof data === 'string' ? encoder.encode(data) : data);
    }
  }

  private route(path: string): { backend: Backend; rel: string[] } {
    const parts = components(path, this.cwd);
    for (const m of this.mounts) {
      if (m.at.length <= parts.length && m.at.every((p, i) => parts[i] === p)) return { backend: m.backend, rel: parts.slice(m.at.length) };
    }
    return { backend: this.memory, rel: parts };
  }

  stat(path: string): StatInfo {
    const { backend, rel } = this.route(path);
    return backend.stat(rel);
  }

  open(path: string, flags: OpenFlags): Handle {
    const { backend, rel } = this.route(path);
    return backend.open(rel, flags);
  }

  mkdir(path: string): void {
    const { backend, rel } = this.route(path);
    backend.mkdir(rel);
  }

  unlink(path: string): void {
    const { backend, rel } = this.route(path);
    backend.unlink(rel);
  }

  rmdir(path: string): void {
    const { backend, rel } = this.route(path);
    if (backend === this.memory && this.mounts.some((m) => joinPath(m.at) === joinPath(rel))) throw new VfsError(Errno.EACCES, 'mount point');
    backend.rmdir(rel);
  }

  rename(from: string, to: string): void {
    const a = this.route(from);
    const b = this.route(to);
    if (a.backend !== b.backend) throw new VfsError(Errno.EXDEV, 'across mounts');
    a.backend.rename(a.rel, b.rel);
  }

  chdir(path: string): void {
    if (this.stat(path).kind !== 'dir') throw new VfsError(Errno.ENOTDIR, path);
    this.cwd = joinPath(components(path, this.cwd));
  }

  // The host's side: reading results back, adding inputs.

  readFile(path: string): Uint8Array {
    const handle = this.open(path, { read: true, write: false, create: false, exclusive: false, truncate: false, append: false, directory: false });
    try {
      if (handle.kind !== 'file') throw new VfsError(Errno.EISDIR, path);
      const out = new Uint8Array(handle.size());
      let at = 0;
      while (at < out.length) {
        const n = handle.read(out.subarray(at), at);
        if (n === 0) break;
        at += n;
      }
      return out.subarray(0, at);
    } finally {
      handle.close();
    }
  }

  writeFile(path: string, data: string | Uint8Array): void {
    const { backend, rel } = this.route(path);
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (backend === this.memory) return this.memory.put(rel, bytes);
    const handle = backend.open(rel, { read: false, write: true, create: true, exclusive: false, truncate: true, append: false, directory: false });
    try {
      if (handle.kind !== 'file') throw new VfsError(Errno.EISDIR, path);
      handle.write(bytes, 0);
    } finally {
      handle.close();
    }
  }

  list(path: string): { name: string; kind: 'file' | 'dir' }[] {
    const handle = this.open(path, { read: true, write: false, create: false, exclusive: false, truncate: false, append: false, directory: true });
    handle.close();
    if (handle.kind !== 'dir') throw new VfsError(Errno.ENOTDIR, path);
    return handle.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

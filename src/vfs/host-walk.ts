// Resolving a path under a mounted host directory one component at a time, each directory opened
// through the descriptor of the one before (fd-route.ts). A symlink is followed only when its
// target, taken lexically, stays inside the mount; the walk then starts again from the mount's root
// with the target's components, each checked the same way. A walk holds at most two descriptors
// (the root and the current directory) and close() releases them. Both the sandbox's mounts
// and WASI preopens reach host directories only here, through one HostBackend (host-backend.ts).
import * as fs from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { Errno, VfsError } from './errno.js';
import { DIR_OPEN, routeWorks, viaFd, type FdRoute } from './fd-route.js';

const MAX_LINKS = 32;

/** The mounted directory: its real path and its identity when it was mounted. */
export interface MountRoot {
  path: string;
  dev: number;
  ino: number;
}

/** Where a path led: the entry `name` of the open directory `dir`, or (name null) `dir` itself. */
export interface Found {
  dir: number;
  /** Components of `dir` from the mount's root. */
  dirNames: string[];
  name: string | null;
  /** The entry's lstat (a symlink only when the last link was not followed); null if it does not exist. */
  st: fs.Stats | null;
}

function err(errno: number, what: string): never {
  throw new VfsError(errno, what);
}

function codeOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/**
 * The host directory `host` as a mount root. Fails (an Error naming `host`) when it is not a
 * directory, or when `route` does not lead into it: without the route no path resolution from Node
 * is safe against another process swapping directories.
 */
export function mountRoot(host: string, route: FdRoute): MountRoot {
  let path: string;
  let st: fs.Stats;
  try {
    path = fs.realpathSync(host);
    st = fs.statSync(path);
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new Error(`cannot mount ${host}: ${codeOf(e) ?? (e as Error).message}`);
  }
  if (!routeWorks(route, path)) {
    throw new Error(
      `cannot mount ${host}: mounts need ${route.fdDir} (Linux with /proc) to resolve paths without races against other processes; it is not available here`,
    );
  }
  return { path, dev: st.dev, ino: st.ino };
}

/** Runs `use` on where `rel` leads under `root`; every descriptor of the walk is closed afterwards. */
export function walkTo<T>(route: FdRoute, root: MountRoot, rel: readonly string[], followLast: boolean, use: (found: Found) => T): T {
  const walk = new HostWalk(route, root);
  try {
    return use(walk.resolve(rel, followLast));
  } finally {
    walk.close();
  }
}

/** A host path for what `found` names that the kernel resolves through the open directory only. */
export function foundPath(route: FdRoute, found: Found): string {
  return viaFd(route, found.dir, found.name ?? undefined);
}

export class HostWalk {
  private root = -1;
  private current = -1;
  private names: string[] = [];

  constructor(
    private readonly route: FdRoute,
    private readonly mount: MountRoot,
  ) {}

  /** Resolves `rel`; a final symlink is followed only with `followLast`. */
  resolve(rel: readonly string[], followLast: boolean): Found {
    this.toRoot();
    const pending = [...rel];
    let links = 0;
    for (;;) {
      const part = pending.shift();
      if (part === undefined) return { dir: this.current, dirNames: [...this.names], name: null, st: fs.fstatSync(this.current) };
      const last = pending.length === 0;
      if (!last && this.tryEnter(part)) continue;
      const st = this.lstat(part);
      if (!st) {
        if (last) return { dir: this.current, dirNames: [...this.names], name: part, st: null };
        err(Errno.ENOENT, part);
      }
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_LINKS) err(Errno.ELOOP, 'too many links');
        pending.unshift(...this.linkTarget(part));
        continue;
      }
      if (!last) {
        if (!st.isDirectory()) err(Errno.ENOTDIR, part);
        if (++links > MAX_LINKS) err(Errno.ELOOP, 'changing under the walk'); // swapped back since the open: again, a bounded number of times
        pending.unshift(part);
        continue;
      }
      return { dir: this.current, dirNames: [...this.names], name: part, st };
    }
  }

  close(): void {
    if (this.current >= 0 && this.current !== this.root) fs.closeSync(this.current);
    if (this.root >= 0) fs.closeSync(this.root);
    this.current = this.root = -1;
  }

  private toRoot(): void {
    if (this.root < 0) {
      this.root = fs.openSync(this.mount.path, DIR_OPEN);
      const st = fs.fstatSync(this.root);
      if (st.dev !== this.mount.dev || st.ino !== this.mount.ino) err(Errno.EACCES, 'the mounted directory was replaced');
    }
    if (this.current !== this.root && this.current >= 0) fs.closeSync(this.current);
    this.current = this.root;
    this.names = [];
  }

  /** Opens `part` of the current directory if it is a real directory; false if it is anything else. */
  private tryEnter(part: string): boolean {
    let fd: number;
    try {
      fd = fs.openSync(viaFd(this.route, this.current, part), DIR_OPEN);
    } catch (e) {
      if (codeOf(e) === 'ENOTDIR' || codeOf(e) === 'ELOOP') return false;
      throw e;
    }
    if (this.current !== this.root) fs.closeSync(this.current);
    this.current = fd;
    this.names.push(part);
    return true;
  }

  private lstat(part: string): fs.Stats | null {
    try {
      return fs.lstatSync(viaFd(this.route, this.current, part));
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return null;
      throw e;
    }
  }

  /** The components to walk instead of the link `part`, from the root (the walk is moved there). */
  private linkTarget(part: string): string[] {
    let target: string;
    try {
      target = fs.readlinkSync(viaFd(this.route, this.current, part));
    } catch (e) {
      if (codeOf(e) === 'EINVAL') return [part]; // no longer a link: look again
      throw e;
    }
    const absolute = resolve(this.mount.path, ...this.names, target);
    const prefix = this.mount.path.endsWith(sep) ? this.mount.path : this.mount.path + sep;
    if (absolute !== this.mount.path && !absolute.startsWith(prefix)) throw new VfsError(Errno.EACCES, 'link leaves the mount', 'path-escape');
    this.toRoot();
    return relative(this.mount.path, absolute).split(sep).filter((p) => p !== '');
  }
}

// Race-free access to a host directory tree from Node, which has no openat/renameat. A directory
// opened with O_DIRECTORY | O_NOFOLLOW can be named again as `<fdDir>/<fd>` (on Linux
// /proc/self/fd/7), and `<fdDir>/<fd>/<name>` is the entry `name` of *that opened directory*, whatever
// was renamed or swapped for a symlink on disk since. Walking through these paths one directory at a
// time, the kernel never follows a link that was not checked.
import * as fs from 'node:fs';

export interface FdRoute {
  /** Directory in which the entry `<fd>` leads into the open directory `fd`. */
  readonly fdDir: string;
}

export const PROC_FD_ROUTE: FdRoute = { fdDir: '/proc/self/fd' };

const C = fs.constants;

/** Opens only a real directory (never through a final symlink), and never blocks on a FIFO swapped in. */
export const DIR_OPEN = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_NONBLOCK;

/** The path of the open directory `dirFd`, or of its entry `name`. */
export function viaFd(route: FdRoute, dirFd: number, name?: string): string {
  return name === undefined ? `${route.fdDir}/${dirFd}` : `${route.fdDir}/${dirFd}/${name}`;
}

/** Whether `route` leads into the directory `dir` once opened (it does on Linux with /proc mounted). */
export function routeWorks(route: FdRoute, dir: string): boolean {
  let fd = -1;
  try {
    fd = fs.openSync(dir, DIR_OPEN);
    const opened = fs.fstatSync(fd);
    const reached = fs.statSync(viaFd(route, fd, '.'));
    return opened.dev === reached.dev && opened.ino === reached.ino;
  } catch {
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

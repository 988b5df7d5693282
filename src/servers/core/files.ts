// Files a request brings: in-memory inputs only. They never land inside a mount the server granted,
// so a request cannot write to the host through them.
import { UsageError } from '../../core/errors.js';
import type { SandboxOptions } from '../../api/options.js';
import { normalize } from '../../vfs/paths.js';

export type RequestFiles = Record<string, string>;

/** The server's own in-memory files with the request's on top, checked against the server's mounts. */
export function requestFiles(grants: SandboxOptions, files: RequestFiles | undefined): SandboxOptions['files'] {
  if (files === undefined || Object.keys(files).length === 0) return grants.files;
  const mounts = (grants.mounts ?? []).map((m) => normalize(m.guest));
  for (const path of Object.keys(files)) {
    if (!path.startsWith('/')) throw new UsageError(`files: "${path}" must be an absolute path`);
    const p = normalize(path);
    if (mounts.some((m) => p === m || p.startsWith(m + '/'))) throw new UsageError(`files: "${path}" is inside a mounted directory`);
  }
  return { ...grants.files, ...files };
}

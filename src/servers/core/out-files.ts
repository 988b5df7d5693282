// Files a one-shot Python run leaves under /out/ come back with its result (a run's sandbox is gone
// after it, so this is the only way to hand back a file or a picture), within a byte budget.
import type { Collected } from '../../pool/run-files.js';

/** Where a run writes what it hands back. */
export const OUT_DIR = '/out';
/** Bytes of /out/ files one result carries at most; files past it are listed as omitted. */
export const DEFAULT_OUT_FILES_BYTES = 2 * 1024 * 1024;

export interface OutFile {
  path: string;
  bytes: number;
  mimeType: string;
  /** The content, base64. */
  base64: string;
}

export interface OutFiles {
  files: OutFile[];
  omitted: { path: string; bytes: number }[];
}

const TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  md: 'text/markdown',
};

export function mimeTypeOf(path: string): string {
  return TYPES[/\.([^./]+)$/.exec(path)?.[1]?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}

/** The images a model client shows as pictures. */
export const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/svg+xml']);

export function outFiles(collected: Collected): OutFiles {
  return {
    files: collected.files.map((f) => ({ path: f.path, bytes: f.data.length, mimeType: mimeTypeOf(f.path), base64: Buffer.from(f.data).toString('base64') })),
    omitted: collected.omitted,
  };
}

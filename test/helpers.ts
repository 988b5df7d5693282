import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The built CLI (npm test builds dist/ first, in pretest): what `npx pyfence` runs, without tsx's start-up. */
export const CLI = fileURLToPath(new URL('../dist/bundle/cli.cjs', import.meta.url));

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a test left it unremovable (a directory without permissions): the OS's tmp cleaning has it
    }
  }
});

/** A new directory under the OS's temp dir, removed when the test file's process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pyfence-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

// The CLI's caches (its code cache, instrumented modules) go to a directory of this test process,
// not the user's ~/.cache: runs of two checkouts would otherwise replace each other's entries, and
// a test would depend on what an earlier run left. A test of the default location sets its own.
process.env.XDG_CACHE_HOME = tempDir('cache');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the pyfence CLI in a child process, bounded in time. */
export function cli(args: string[], opts: { input?: string; timeoutMs?: number; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same as `cli`, without blocking: for running several slow cases side by side. */
export function cliAsync(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult & { ms: number }> {
  return nodeAsync([CLI, ...args], opts);
}

/** `node ARGS` in a child process, bounded in time (killed past it), its output collected. */
export function nodeAsync(args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult & { ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Descriptors this process holds on `dir` or anything below it. Counting only these (not every open
 * descriptor) keeps leak checks exact while the runtime opens and closes its own files meanwhile.
 */
export function descriptorsUnder(path: string): number {
  const dir = realpathSync(path);
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed while listing (the listing's own descriptor among them)
    }
    if (target === dir || target.startsWith(dir + '/')) n++;
  }
  return n;
}

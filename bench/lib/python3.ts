// CPython baseline: runs a program N times inside ONE python3 process and reports the
// in-process time of each run (compile + exec), so interpreter start-up is excluded.

import { execFile } from 'node:child_process';

// The driver compiles+execs the program in a fresh globals dict per run, with stdout redirected
// into a StringIO, then prints one JSON line on the real stdout.
const DRIVER = String.raw`
import io, json, sys, time
src = sys.stdin.read()
name, runs = sys.argv[1], int(sys.argv[2])
clock = time.process_time if sys.argv[3:] == ["cpu"] else time.perf_counter
times, out, err = [], None, None
real = sys.stdout
for _ in range(runs):
    buf = io.StringIO()
    sys.stdout = buf
    try:
        t0 = clock()
        exec(compile(src, name, "exec"), {"__name__": "__main__"})
        t1 = clock()
    except BaseException as e:
        sys.stdout = real
        err = "%s: %s" % (type(e).__name__, e)
        break
    finally:
        sys.stdout = real
    times.append((t1 - t0) * 1000.0)
    if out is None:
        out = buf.getvalue()
real.write(json.dumps({"times": times, "stdout": out, "error": err, "version": sys.version.split()[0]}))
`;

export interface Python3Result {
  status: 'ok' | 'error' | 'absent';
  times: number[];
  stdout?: string;
  error?: string;
  version?: string;
}

let available: Promise<string | undefined> | undefined;

/** Resolves to the python3 version string, or undefined when python3 cannot be run. */
export function python3Version(bin = 'python3'): Promise<string | undefined> {
  available ??= new Promise((resolve) => {
    execFile(bin, ['-c', 'import sys; print(sys.version.split()[0])'], { timeout: 10_000 }, (e, out) =>
      resolve(e ? undefined : String(out).trim()),
    );
  });
  return available;
}

/**
 * Runs `code` `runs` times in a single python3 process; never throws. `clock`: each run's wall time,
 * or the process's CPU time (steadier on a loaded machine).
 */
export async function runPython3(code: string, runs: number, name = '<bench>', bin = 'python3', clock: 'wall' | 'cpu' = 'wall'): Promise<Python3Result> {
  if (!(await python3Version(bin))) return { status: 'absent', times: [] };
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      ['-c', DRIVER, name, String(runs), clock],
      { timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
      (e, stdout, stderr) => {
        if (e) {
          resolve({ status: 'error', times: [], error: `${e.message}\n${stderr}`.trim() });
          return;
        }
        try {
          const r = JSON.parse(String(stdout)) as { times: number[]; stdout: string | null; error: string | null; version: string };
          resolve({
            status: r.error ? 'error' : 'ok',
            times: r.times,
            stdout: r.stdout ?? undefined,
            error: r.error ?? undefined,
            version: r.version,
          });
        } catch (pe) {
          resolve({ status: 'error', times: [], error: `bad driver output: ${String(pe)}` });
        }
      },
    );
    child.stdin?.end(code);
  });
}

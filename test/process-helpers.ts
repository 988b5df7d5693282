// Long-running child processes for server tests: a real redis-server on a free loopback port, and
// pyfence commands that stay up. Every child is killed when the test process exits, pass or fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { CLI, ROOT, tempDir } from './helpers.js';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A port the kernel just handed out on 127.0.0.1 (free at that moment). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Started {
  child: ChildProcess;
  /** The first match of the ready pattern. */
  match: RegExpExecArray;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Spawns a process and waits (bounded) until its stdout or stderr matches `ready`. */
export function startProcess(command: string, args: string[], ready: RegExp, timeoutMs = 30_000): Promise<Started> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not become ready in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output, exited, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}) before it was ready:\n${output}`));
    });
  });
}

/** `pyfence ARGS...` from source, as the CLI tests run it, until `ready` appears in its output. */
export function startCli(args: string[], ready: RegExp, timeoutMs?: number): Promise<Started> {
  return startProcess(process.execPath, ['--import', 'tsx', CLI, ...args], ready, timeoutMs);
}

export interface RedisServer {
  url: string;
  port: number;
  /** Ends redis-server at once (no shutdown save): what survives is only what the AOF holds. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops it and removes its data directory. */
  stop(): Promise<void>;
}

/** A real redis-server on 127.0.0.1 and a random port, AOF on and fsync'd on every write, in its own temp dir. */
export async function startRedis(): Promise<RedisServer> {
  const dir = tempDir('redis');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
  const launch = () => startProcess('redis-server', args, /Ready to accept connections/, 20_000);
  let server = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => void (await server.stop('SIGKILL')),
    restart: async () => {
      server = await launch();
    },
    stop: async () => {
      await server.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A GET with a Host header of our choosing (fetch will not send one). */
export function rawStatus(base: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

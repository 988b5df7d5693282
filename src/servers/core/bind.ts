// Where a server may listen: loopback by default, and never a reachable address without a token.
import { nodeNet } from '../../core/lazy-builtins.js';
import { UsageError } from '../../core/errors.js';

export const DEFAULT_HOST = '127.0.0.1';

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return nodeNet().isIP(host) === 4 && host.startsWith('127.');
}

/** Anyone who can reach the port can run code with the server's grants: require a token off loopback. */
export function checkBind(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token) {
    throw new UsageError(`refusing to listen on ${host} without a token: give --token or PYFENCE_TOKEN (or bind to 127.0.0.1)`);
  }
}

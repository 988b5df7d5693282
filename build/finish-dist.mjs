// After tsc: the CommonJS entry (src/index.cjs, not compiled) beside dist/index.js, the guest-side
// Python read at run time beside the modules that read it, and the CLI executable.
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';

copyFileSync('src/index.cjs', 'dist/index.cjs');
mkdirSync('dist/guests/cpython/guest', { recursive: true });
for (const file of readdirSync('src/guests/cpython/guest').filter((f) => f.endsWith('.py'))) {
  copyFileSync(`src/guests/cpython/guest/${file}`, `dist/guests/cpython/guest/${file}`);
}
// The `requests` module both engines share: CPython reads it at run time (src/guests/cpython/template.ts).
mkdirSync('dist/python/guest', { recursive: true });
copyFileSync('src/python/guest/requests.py', 'dist/python/guest/requests.py');
// The REPL's Tab completion, run in the session's sandbox (src/cli/repl.ts).
mkdirSync('dist/cli/guest', { recursive: true });
copyFileSync('src/cli/guest/complete.py', 'dist/cli/guest/complete.py');
chmodSync('dist/cli/main.js', 0o755);

// After tsc: the CommonJS entry (src/index.cjs, not compiled) beside dist/index.js, the guest-side
// Python read at run time beside the modules that read it, and the CLI executable.
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';

copyFileSync('src/index.cjs', 'dist/index.cjs');
mkdirSync('dist/cpython/guest', { recursive: true });
for (const file of readdirSync('src/cpython/guest').filter((f) => f.endsWith('.py'))) {
  copyFileSync(`src/cpython/guest/${file}`, `dist/cpython/guest/${file}`);
}
chmodSync('dist/cli/main.js', 0o755);

// After tsc: the CommonJS entry (src/index.cjs, not compiled) beside dist/index.js, the guest-side
// Python read at run time beside the modules that read it, and the CLI executable.
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';

copyFileSync('src/index.cjs', 'dist/index.cjs');
mkdirSync('dist/cpython/guest', { recursive: true });
copyFileSync('src/cpython/guest/_pyfence.py', 'dist/cpython/guest/_pyfence.py');
chmodSync('dist/cli/main.js', 0o755);

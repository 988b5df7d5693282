// After tsc: the CommonJS entry (src/index.cjs, not compiled) beside dist/index.js, and the CLI executable.
import { chmodSync, copyFileSync } from 'node:fs';

copyFileSync('src/index.cjs', 'dist/index.cjs');
chmodSync('dist/cli/main.js', 0o755);

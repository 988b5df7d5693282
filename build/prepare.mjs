// `prepare` builds wasm/ and dist/ on `npm install` in a clone. `npx pyfence` in the clone links the
// project into npx's cache, which runs `prepare` again: the build is there already, so skip it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = existsSync('dist/bundle/cli.cjs') && existsSync('wasm/manifest.json');
if (process.env.npm_command === 'exec' && built) process.exit(0);
const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);

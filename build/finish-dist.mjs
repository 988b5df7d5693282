// After tsc: the CommonJS entry (src/index.cjs, not compiled) beside dist/index.js, the guest-side
// Python read at run time beside the modules that read it, and the CLI executable.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle } from './bundle.mjs';

copyFileSync('src/index.cjs', 'dist/index.cjs');
mkdirSync('dist/guests/cpython/guest', { recursive: true });
for (const file of readdirSync('src/guests/cpython/guest').filter((f) => f.endsWith('.py'))) {
  copyFileSync(`src/guests/cpython/guest/${file}`, `dist/guests/cpython/guest/${file}`);
}
// The `requests` module both engines share: CPython reads it at run time (src/guests/cpython/template.ts).
mkdirSync('dist/guests/python-common/guest', { recursive: true });
copyFileSync('src/guests/python-common/guest/requests.py', 'dist/guests/python-common/guest/requests.py');
// The REPL's Tab completion, run in the session's sandbox (src/cli/repl.ts).
mkdirSync('dist/cli/guest', { recursive: true });
copyFileSync('src/cli/guest/complete.py', 'dist/cli/guest/complete.py');
chmodSync('dist/cli/main.js', 0o755);

// Types for CommonJS consumers (`require('pyfence')` resolves to dist/index.cjs): a .d.cts beside
// every .d.ts, importing its siblings as .cjs, so TypeScript reads the whole graph as CommonJS
// rather than ES module declarations masquerading as CommonJS.
const RELATIVE_JS = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.js(['"])/g;
function writeCjsTypes(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) writeCjsTypes(path);
    else if (entry.name.endsWith('.d.ts')) {
      writeFileSync(path.replace(/\.d\.ts$/, '.d.cts'), readFileSync(path, 'utf8').replace(RELATIVE_JS, '$1$2.cjs$3'));
    }
  }
}
writeCjsTypes('dist');

// The bundled entry points (build/bundle.mjs): what `pyfence` and `import 'pyfence'` load.
await bundle();
chmodSync('dist/bundle/cli.cjs', 0o755);

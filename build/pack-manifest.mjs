// `npm pack` / `npm publish` hooks. The published package runs nothing at install: its package.json
// must have no prepare/install scripts, although a clone's `npm install` builds through `prepare`.
//   prepack:  build what is missing (nothing when wasm/ and dist/ are there: npm pack does not
//             rebuild), then write package.json without the install-time scripts, keeping the
//             original beside it;
//   postpack: put the original package.json back.
// npm reads package.json again after prepack, so the tarball gets the stripped one and `prepare`
// does not run during the pack.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const MANIFEST = 'package.json';
const ORIGINAL = '.package.json.unpacked';
/** Scripts npm runs when a package is installed (or, for prepare, installed from a directory or git). */
export const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'];

/** A pack that died before postpack left the original aside: it is the real package.json. */
function restore() {
  if (existsSync(ORIGINAL)) renameSync(ORIGINAL, MANIFEST);
}

function built() {
  const files = JSON.parse(readFileSync(MANIFEST, 'utf8')).files.filter((f) => f.startsWith('wasm/'));
  return ['dist/index.js', 'dist/cli/main.js', 'dist/bundle/cli.cjs', 'dist/bundle/cli-main.cjs', 'dist/bundle/index.js'].every((f) => existsSync(f)) && files.every((f) => existsSync(f));
}

function prepack() {
  restore();
  if (!built()) {
    const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  const text = readFileSync(MANIFEST, 'utf8');
  const manifest = JSON.parse(text);
  for (const name of INSTALL_SCRIPTS) delete manifest.scripts?.[name];
  writeFileSync(ORIGINAL, text);
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
}

const step = process.argv[2];
if (step === 'prepack') prepack();
else if (step === 'postpack') restore();
else {
  console.error('usage: node build/pack-manifest.mjs prepack|postpack');
  process.exit(2);
}

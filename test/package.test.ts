// The package as users get it: `npm pack`, installed into a project with no devDependencies, used
// from TypeScript (type-checked with tsc) and from plain CommonJS, and its CLI run from node_modules.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, tempDir } from './helpers.js';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sh(cmd: string, args: string[], cwd: string, extra: { env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ...extra.env } });
  if (r.error) throw r.error;
  return r;
}

describe('the packed package', () => {
  it('installs without building and serves TypeScript, CommonJS and CLI consumers', { timeout: 300_000 }, () => {
    const dir = tempDir('pack');
    // The pack's own scripts run (prepack/postpack), and they pack what is built without building again.
    const builtFiles = ['dist/index.js', 'dist/cli/main.js', 'dist/bundle/cli.cjs', 'dist/bundle/cli-main.cjs', 'dist/bundle/index.js', 'wasm/pyfence.wasm', 'wasm/cpython.wasm'].map((f) => join(ROOT, f));
    const mtimes = () => builtFiles.map((f) => statSync(f).mtimeMs);
    const before = mtimes();
    const manifestBefore = readFileSync(join(ROOT, 'package.json'), 'utf8');
    const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }));
    assert.deepEqual(mtimes(), before, 'npm pack rebuilt what was built');
    assert.equal(readFileSync(join(ROOT, 'package.json'), 'utf8'), manifestBefore, 'npm pack left package.json changed');
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    for (const needed of ['LICENSE', 'THIRD_PARTY_NOTICES', 'README.md', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli/main.js', 'dist/bundle/cli.cjs', 'dist/bundle/cli-main.cjs', 'dist/bundle/index.js', 'wasm/pyfence.wasm', 'wasm/manifest.json']) {
      assert.ok(files.includes(needed), `${needed} is missing from the tarball`);
    }
    for (const path of files) {
      assert.doesNotMatch(path, /^(src|build|test|bench)\/|\.map$|unmetered/, `${path} should not be in the tarball`);
    }

    const project = join(dir, 'consumer');
    cpSync(join(ROOT, 'test/consumer'), project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const install = sh(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed[0].filename)], project);
    assert.equal(install.status, 0, install.stderr);
    // Nothing runs at install; the notices name every shipped wasm/ file; where the project lives.
    const published = JSON.parse(readFileSync(join(project, 'node_modules/pyfence/package.json'), 'utf8'));
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare', 'prepublish']) {
      assert.equal(published.scripts?.[script], undefined, `the published package.json has a ${script} script`);
    }
    assert.match(published.repository.url, /github\.com\/pyfence\/pyfence/);
    assert.match(published.homepage, /github\.com\/pyfence\/pyfence/);
    assert.match(published.bugs.url, /github\.com\/pyfence\/pyfence\/issues/);
    const notices = readFileSync(join(project, 'node_modules/pyfence/THIRD_PARTY_NOTICES'), 'utf8');
    for (const wasmFile of files.filter((f) => f.startsWith('wasm/'))) assert.ok(notices.includes(wasmFile), `THIRD_PARTY_NOTICES does not name ${wasmFile}`);
    for (const license of ['MIT License', 'PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2', 'Mozilla Public License Version 2.0']) {
      assert.ok(notices.includes(license), `THIRD_PARTY_NOTICES lacks the ${license} text`);
    }
    assert.doesNotMatch(install.stdout + install.stderr, /prepare|install script/i);
    const installed = readdirSync(join(project, 'node_modules'));
    // Build-time and optional packages stay out: binaryen (instrumenting), bullmq and ioredis (the queue).
    const notInstalled = ['typescript', 'tsx', 'pyodide', '@pydantic', '@micropython', 'binaryen', 'bullmq', 'ioredis', 'msgpackr-extract'];
    assert.deepEqual(installed.filter((name) => notInstalled.includes(name)), [], `dev or optional packages installed: ${installed}`);
    const bytes = Number(execFileSync('du', ['-sb', join(project, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
    assert.ok(bytes <= 60 * 2 ** 20, `node_modules is ${(bytes / 2 ** 20).toFixed(1)} MiB, over 60 MiB`);

    // import('pyfence') loads none of the servers' libraries (the resolve hook lists every package loaded).
    writeFileSync(join(project, 'hooks.mjs'), `export async function resolve(s, c, next) { const r = await next(s, c); const m = /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(r.url); if (m) process.stderr.write('package ' + m[1] + '\\n'); if (/node_modules\\/pyfence\\//.test(r.url)) process.stderr.write('file ' + r.url + '\\n'); return r; }`);
    writeFileSync(join(project, 'register.mjs'), "import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);");
    const loaded = sh(process.execPath, ['--import', './register.mjs', '--input-type=module', '-e', "await import('pyfence')"], project);
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.deepEqual([...new Set(loaded.stderr.match(/^package .*$/gm))], ['package pyfence']);
    // ... from the bundled entry (build/bundle.mjs): a few files, where dist/index.js's graph is ~110.
    const ownFiles = [...new Set(loaded.stderr.match(/^file .*$/gm))];
    assert.ok(ownFiles.length > 0 && ownFiles.length <= 12, `import('pyfence') loaded ${ownFiles.length} of the package's files:\n${ownFiles.join('\n')}`);
    assert.ok(ownFiles.every((f) => f.includes('/dist/bundle/')), ownFiles.join('\n'));

    // TypeScript: tsc checks the consumer (including its @ts-expect-error lines) against the package's types.
    const tsc = sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.', '--typeRoots', join(ROOT, 'node_modules/@types')], project);
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const ts = sh(process.execPath, ['out/consumer.js'], project);
    assert.equal(ts.status, 0, ts.stderr);
    assert.equal(ts.stdout, 'typescript consumer ok\n');
    // TypeScript compiling to CommonJS (node16 resolution): the require condition's .d.cts types.
    const tscCjs = sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.cjs.json', '--typeRoots', join(ROOT, 'node_modules/@types')], project);
    assert.equal(tscCjs.status, 0, tscCjs.stdout + tscCjs.stderr);
    const tsCjs = sh(process.execPath, ['out/consumer-cjs.cjs'], project);
    assert.equal(tsCjs.status, 0, tsCjs.stderr);
    assert.equal(tsCjs.stdout, 'commonjs typescript consumer ok\n');

    const cjs = sh(process.execPath, ['consumer.cjs'], project);
    assert.equal(cjs.status, 0, cjs.stderr);
    assert.equal(cjs.stdout, 'javascript consumer ok\n');
    // Where Node cannot require() an ES module, the CommonJS entry says what to do instead.
    const old = sh(process.execPath, ['--no-experimental-require-module', '-e', "require('pyfence')"], project);
    assert.notEqual(old.status, 0);
    assert.match(old.stderr, /pyfence is an ES module .*await import\('pyfence'\)/);

    // The CLI from node_modules/.bin, as `npx pyfence` in the project runs it: a file's name in its traceback.
    writeFileSync(join(project, 'job.py'), 'print("hello")\nraise ValueError("bad")\n');
    const bin = join(project, 'node_modules/.bin/pyfence');
    const run = sh(bin, ['run', 'job.py'], project);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, 'hello\n');
    assert.match(run.stderr, /File "job\.py", line 2, in <module>\nValueError: bad\n/);
    // Optional packages: the commands that need one say which to install.
    const worker = sh(bin, ['worker', '--redis', 'redis://127.0.0.1:1'], project);
    assert.equal(worker.status, 2, worker.stderr);
    assert.match(worker.stderr, /pyfence worker needs 'bullmq' and 'ioredis': npm install bullmq ioredis/);
    const wat = sh(bin, ['wasm', join(ROOT, 'test/fixtures/wasm/add.wat')], project);
    assert.equal(wat.status, 2, wat.stderr);
    assert.match(wat.stderr, /needs 'binaryen': npm install binaryen/);
    // A binary module needs no binaryen: the meter rewrites the binary itself.
    const wasm = sh(bin, ['wasm', '--no-cache', join(ROOT, 'examples/wasi-program/greet.wasm'), 'a', 'b'], project);
    assert.equal(wasm.status, 3, wasm.stderr);
    assert.equal(wasm.stdout, 'Hello from WASI! arguments: 2\n');
    const version = sh(bin, ['--version'], project);
    assert.equal(version.stdout.trim(), JSON.parse(execFileSync(NPM, ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' })));
  });

  const attw = join(ROOT, 'node_modules/.bin/attw');
  it('@arethetypeswrong/cli finds no problem in the tarball', { timeout: 300_000, skip: existsSync(attw) ? false : 'node_modules has no @arethetypeswrong/cli (a devDependency: run npm install)' }, () => {
    const dir = tempDir('attw');
    const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }));
    const r = sh(attw, [join(dir, packed[0].filename), '--format', 'json'], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const { problems } = JSON.parse(r.stdout) as { problems?: Record<string, unknown> };
    assert.deepEqual(Object.keys(problems ?? {}), [], JSON.stringify(problems));
  });
});

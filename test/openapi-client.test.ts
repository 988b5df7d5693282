// /openapi.json as a client generator sees it: operationIds, servers, named component schemas, every
// status the server answers, a license; the types openapi-typescript makes from it are committed
// (test/openapi/pyfence-api.ts, regenerated and compared here) and an openapi-fetch client built on
// them type-checks and runs against `pyfence serve`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import createClient from 'openapi-fetch';
import type { paths } from './openapi/pyfence-api.js';
import { ROOT, tempDir } from './helpers.js';
import { startCli, type Started } from './process-helpers.js';
import { HELLO_WAT } from './support/hello-wat.js';

const TOKEN = 'openapi-token-5c';
const TYPES = join(import.meta.dirname, 'openapi', 'pyfence-api.ts');

describe('the OpenAPI document and a generated client', () => {
  let server: Started;
  let url: string;
  let doc: any;

  before(async () => {
    server = await startCli(['serve', '--port', '0', '--token', TOKEN, '--engines', 'micropython,cpython', '--concurrency', '1', '--max-queue', '1'], /listening on (http:\S+)/);
    url = server.match[1];
    doc = await (await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  });
  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('names every operation, the server, its license, and its bodies as components', () => {
    assert.deepEqual(doc.servers, [{ url }]);
    assert.equal(doc.info.license.identifier, 'MIT');
    const operations = Object.values(doc.paths).flatMap((item: any) => Object.values(item)) as any[];
    assert.deepEqual(operations.map((o) => o.operationId).sort(), ['closeSession', 'createSession', 'getOpenApi', 'getSessionSnapshot', 'health', 'run', 'runInSession', 'runStream']);
    for (const name of ['RunRequest', 'RunResult', 'RunStreamLine', 'SessionCreate', 'SessionRun', 'Session', 'Error']) assert.ok(doc.components.schemas[name], name);
    assert.deepEqual(doc.paths['/v1/run'].post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/RunRequest' });
    assert.deepEqual(doc.components.schemas.RunStreamLine.anyOf[1].properties.result, { $ref: '#/components/schemas/RunResult' });
  });

  it('makes the committed types with openapi-typescript (regenerated here and compared)', () => {
    const generated = spawnSync(process.execPath, ['--import', './test/support/typescript5-hook.mjs', 'test/support/generate-api-types.mjs'], {
      cwd: ROOT,
      input: JSON.stringify(doc),
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(generated.status, 0, generated.stderr);
    assert.equal(generated.stdout, readFileSync(TYPES, 'utf8'), 'test/openapi/pyfence-api.ts is stale: write this output to it');
  });

  it('type-checks a client program with the generated types, and refuses a wrong one', () => {
    const dir = tempDir('openapi');
    const program = (body: string) => `import createClient from 'openapi-fetch';\nimport type { paths } from ${JSON.stringify(TYPES)};\nconst client = createClient<paths>({ baseUrl: '' });\n${body}\n`;
    writeFileSync(join(dir, 'good.ts'), program(`void client.POST('/v1/run', { body: { code: 'print(1)', engine: 'cpython' } }).then(({ data }) => data?.stdout.toUpperCase());`));
    writeFileSync(join(dir, 'bad.ts'), program(`void client.POST('/v1/run', { body: { code: 1, engine: 'pypy' } });`));
    const check = (file: string) => {
      // The program lives outside the repository: its one import is mapped to the project's package.
      const compilerOptions = { noEmit: true, rootDir: '/', types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')], paths: { 'openapi-fetch': [join(ROOT, 'node_modules/openapi-fetch')] } };
      const config = { extends: join(ROOT, 'tsconfig.json'), compilerOptions, files: [join(dir, file)] };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
      return spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/lib/tsc.js'), '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    };
    const good = check('good.ts');
    assert.equal(good.status, 0, good.stdout + good.stderr);
    const bad = check('bad.ts');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /bad\.ts.*(number|pypy)/s);
  });

  it('runs Python and a module through the openapi-fetch client, with typed results and errors', async () => {
    const client = createClient<paths>({ baseUrl: url, headers: { authorization: `Bearer ${TOKEN}` } });
    const py = await client.POST('/v1/run', { body: { code: 'import sys\nsys.implementation.name', engine: 'cpython' } });
    assert.equal(py.data?.valueRepr, "'cpython'");
    const wat = await client.POST('/v1/run', { body: { wat: HELLO_WAT } });
    assert.equal(wat.data?.stdout, 'hello from wat\n');
    const session = await client.POST('/v1/sessions', { body: { engine: 'micropython' } });
    assert.equal(session.response.status, 201);
    const id = session.data!.id;
    await client.POST('/v1/sessions/{id}/run', { params: { path: { id } }, body: { code: 'x = 6' } });
    const again = await client.POST('/v1/sessions/{id}/run', { params: { path: { id } }, body: { code: 'x * 7' } });
    assert.equal(again.data?.value, 42);
    await client.DELETE('/v1/sessions/{id}', { params: { path: { id } } });
    const gone = await client.POST('/v1/sessions/{id}/run', { params: { path: { id } }, body: { code: 'x' } });
    assert.equal(gone.response.status, 404);
    assert.match(gone.error!.error.message, /no session/);
    const health = await client.GET('/healthz');
    assert.equal(health.data?.ok, true);
  });
  it('lists every status the server answers, and the server answers with them', async () => {
    const statuses = Object.keys(doc.paths['/v1/run'].post.responses).sort();
    assert.deepEqual(statuses, ['200', '400', '401', '403', '413', '415', '429', '500', '503']);
    const post = (body: string, headers: Record<string, string>) => fetch(`${url}/v1/run`, { method: 'POST', body, headers });
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await post('{"code":"1"}', { 'content-type': 'application/json' })).status, 401);
    assert.equal((await post('{"code":"1"}', { ...auth, 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post(`{"code":"${'x'.repeat(2 * 1024 * 1024)}"}`, { ...auth, 'content-type': 'application/json' })).status, 413);
    assert.equal((await post('{"code":1}', { ...auth, 'content-type': 'application/json' })).status, 400);
  });
});

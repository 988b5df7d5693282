// An agent's tool call, scripted: starts the MCP server that mcp.json configures (as an MCP client
// such as a desktop assistant would), lists its tools and runs Python through `run_python`.
//   node examples/agent-tool/client.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const config = JSON.parse(readFileSync(new URL('mcp.json', import.meta.url), 'utf8')).mcpServers.pyfence;
// `npx pyfence ...` as configured, without npx: the installed package's own CLI (its `bin`).
const manifest = import.meta.resolve('pyfence/package.json');
const cli = fileURLToPath(new URL(JSON.parse(readFileSync(new URL(manifest), 'utf8')).bin.pyfence, manifest));
const transport = new StdioClientTransport({ command: process.execPath, args: [cli, ...config.args.slice(1)], stderr: 'ignore' });
const client = new Client({ name: 'example-agent', version: '1.0.0' });
await client.connect(transport);

const { tools } = await client.listTools();
console.log(`tools: ${tools.map((t) => t.name).sort().join(', ')}`);
const result = await client.callTool({ name: 'run_python', arguments: { code: 'print(sum(i * i for i in range(10)))' } });
console.log(`run_python: ${result.structuredContent.stdout.trim()} (error: ${result.isError})`);
// A call may lower the server's limits (never raise them): here its fuel, to 1e9 units. Fuel, not
// time: the stop is the same on every machine (a tight loop burns the default 2e10 units in anything
// from 0.15 to 1.5 s, depending on how far V8 has optimized the interpreter).
const stopped = await client.callTool({ name: 'run_python', arguments: { code: 'while True:\n    pass', limits: { fuel: 1_000_000_000 } } });
console.log(`a loop that never ends: isError ${stopped.isError}, ${stopped.structuredContent.error.kind}`);
await client.close();

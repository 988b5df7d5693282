// Prints the text of named functions (binaryen numbering) or exports of a wasm.
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
const [file, ...names] = process.argv.slice(2);
const m = binaryen.readBinary(new Uint8Array(readFileSync(file)));
for (let n of names) {
  if (n.startsWith('export:')) { n = (binaryen.getExportInfo(m.getExport(n.slice(7)))).value; }
  const f = binaryen.getFunctionInfo(m.getFunction(n));
  console.log(`;; ${n} params=${binaryen.expandType(f.params)} results=${f.results} vars=${f.vars.length}`);
  console.log(binaryen.emitText(f.body));
}

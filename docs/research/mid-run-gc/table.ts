import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
const [file, ...idx] = process.argv.slice(2);
const m = binaryen.readBinary(new Uint8Array(readFileSync(file)));
for (let s = 0; s < m.getNumElementSegments(); s++) {
  const info = binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(s)) as any;
  const off = binaryen.getExpressionInfo(info.offset) as any;
  console.log('segment', s, 'offset', off.value, 'len', info.data.length);
  for (const i of idx) console.log(i, '->', info.data[Number(i) - off.value]);
}

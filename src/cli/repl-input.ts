// When is a REPL input complete? As in Python's REPL: an open bracket, an unfinished triple-quoted
// string or a trailing backslash asks for more lines; a block (a line ending in ':' or a decorator)
// lasts until an empty line.

interface ScanState {
  depth: number;
  /** The triple quote that is open, if any. */
  triple: string | null;
}

function scan(text: string): ScanState {
  let depth = 0;
  let triple: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (triple) {
      if (c === '\\') i++;
      else if (text.startsWith(triple, i)) {
        i += 2;
        triple = null;
      }
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      if (text.startsWith(c.repeat(3), i)) {
        triple = c.repeat(3);
        i += 2;
      } else {
        for (i++; i < text.length && text[i] !== c && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
      }
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
  }
  return { depth, triple };
}

/** The line without its comment and trailing space (strings are not inspected: a heuristic). */
function code(line: string): string {
  const hash = line.indexOf('#');
  return (hash >= 0 && !/["']/.test(line.slice(0, hash)) ? line.slice(0, hash) : line).trimEnd();
}

export function needsMoreInput(lines: readonly string[]): boolean {
  const text = lines.join('\n');
  const { depth, triple } = scan(text);
  if (depth > 0 || triple) return true;
  const last = lines[lines.length - 1];
  if (code(last).endsWith('\\')) return true;
  const first = code(lines[0]);
  const block = first.endsWith(':') || first.startsWith('@');
  if (!block) return false;
  return lines.length === 1 || last.trim() !== '';
}

// str hashes four bytes a round (build/passes/str-hash.ts), and so does the interned-name lookup,
// qstr_find_strn, whose own copy of the loop now calls the same function: the same hash for every
// length, and names made at run time are still found.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { hashFourBytesARound, hashStrLookupsFourBytesARound } from '../build/passes/str-hash.js';
import { ROOT } from './helpers.js';
import { runOnce } from './run-once.js';

/** sha256 of the program's output on the build before the pass. */
const EXPECTED_SHA256 = '71a7cc5f62050b55d42deccebdb9b3a7edbe4714e9c1a5efdf02a1d3e54c665d';

describe('str hash', () => {
  it('hashes every length as before, and names made at run time are found', async () => {
    const r = await runOnce(readFileSync(join(ROOT, 'test/programs/str-hash.py'), 'utf8'));
    r.throwIfError();
    assert.match(r.stdout, /^\[5381, /); // the empty string keeps djb2's start
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), EXPECTED_SHA256);
  });

  it('stops the build when the hash function is not found', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.createType([binaryen.i32, binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => hashFourBytesARound(m), /str-hash: expected one qstr_compute_hash/);
    m.dispose();
  });

  it('stops the build when the lookup has no hash loop to replace', () => {
    const m = new binaryen.Module();
    m.addFunction('lookup', binaryen.createType([binaryen.i32, binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => hashStrLookupsFourBytesARound(m, { hash: 'h' }, 'lookup', 1), /str-hash: expected one hash loop in the lookup, found 0/);
    m.dispose();
  });
});

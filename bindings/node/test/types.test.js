'use strict';
// index.d.ts compiles under tsc --strict and describes the API as used.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

test('tsc --noEmit over index.d.ts and a program using it', () => {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [path.join(__dirname, '..')] });
  } catch {
    assert.fail('typescript is a devDependency: run npm install in bindings/node');
  }
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.ok(fs.existsSync(path.join(__dirname, '..', 'index.d.ts')));
});

'use strict';
// The README's example runs as written and prints what the README says.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

test('README example', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const m = /## Example\n\n```js\n([\s\S]*?)```\n\nprints\n\n```\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README.md has an example and its output');
  const [, code, expected] = m;
  assert.ok(code.trim().split('\n').length <= 12, 'a ten-line example');
  // Inside the package, so that `import 'xchan'` resolves to it (self-reference).
  const dir = path.join(__dirname, '..', 'build');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'readme-example.mjs');
  fs.writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, expected);
});

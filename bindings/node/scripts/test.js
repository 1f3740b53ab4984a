#!/usr/bin/env node
// npm test: every file of test/ under node:test (with --expose-gc for the leak
// and finalisation checks), one process per file, each test bounded in time.
//   node scripts/test.js [name ...] [--asan]   some files; ASan+UBSan build
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'test');
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const env = { ...process.env };
if (args.includes('--asan')) {
  // The addon and the core built with ASan+UBSan, preloaded into node (which
  // is not instrumented; its own allocations are not leak-checked).
  const b = spawnSync(process.execPath, [path.join(__dirname, 'build.js'), '--sanitizer=address'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
  const lib = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  Object.assign(env, {
    LD_PRELOAD: lib,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    XCHAN_NODE_ADDON: path.join(__dirname, '..', 'build', 'address', 'xchan.node'),
  });
}
const files = fs.readdirSync(dir)
  .filter((f) => f.endsWith('.test.js') || f.endsWith('.test.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => path.join(dir, f));
// Node 20+ bounds each test and runs files one at a time (the machine is
// shared); Node 18's runner has neither flag.
const major = Number(process.versions.node.split('.')[0]);
const flags = major >= 20 ? ['--test-timeout=120000', '--test-concurrency=1'] : [];
const r = spawnSync(process.execPath,
  ['--expose-gc', '--test', ...flags, ...files],
  { stdio: 'inherit', cwd: path.join(__dirname, '..'), env });
process.exit(r.status === null ? 1 : r.status);

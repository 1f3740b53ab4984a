#!/usr/bin/env node
// npm test: every file of test/ under node:test (with --expose-gc for the leak
// and finalisation checks), one process per file, each test bounded in time.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'test');
const only = process.argv.slice(2);
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
  { stdio: 'inherit', cwd: path.join(__dirname, '..') });
process.exit(r.status === null ? 1 : r.status);

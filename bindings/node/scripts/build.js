#!/usr/bin/env node
// Builds build/xchan.node (the addon and the C core) with CMake, against the
// Node-API headers of the Node that runs this script, or those of the
// `node-api-headers` package when it is installed.  Nothing is downloaded.
//
//   node scripts/build.js [--debug] [--sanitizer=address|thread]
//   XCHAN_NODE_API_INCLUDE=/dir/with/node_api.h   override the header search
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { findHeaders } = require('./node-headers');

const here = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const debug = args.includes('--debug');
const san = (args.find((a) => a.startsWith('--sanitizer=')) || '').split('=')[1];

function headersOrExit() {
  try {
    return findHeaders();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: here });
  if (r.error) {
    console.error(`xchan: cannot run ${cmd}: ${r.error.message}` +
      (r.error.code === 'ENOENT' ? ' (install CMake 3.20+ and a C compiler)' : ''));
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status || 1);
}

// The installed headers for C addons: include/xchan/*.h (copied from the
// core) next to include/xchan_node.h.
const coreInclude = path.resolve(here, '..', '..', 'core', 'include', 'xchan');
fs.mkdirSync(path.join(here, 'include', 'xchan'), { recursive: true });
for (const f of fs.readdirSync(coreInclude)) {
  fs.copyFileSync(path.join(coreInclude, f), path.join(here, 'include', 'xchan', f));
}

const buildDir = path.join(here, 'build', san ? `cmake-${san}` : (debug ? 'cmake-debug' : 'cmake'));
const configure = ['-S', here, '-B', buildDir,
  `-DNODE_API_INCLUDE=${headersOrExit()}`,
  `-DCMAKE_BUILD_TYPE=${debug || san ? 'Debug' : 'Release'}`,
  `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${path.join(here, 'build', san ? san : (debug ? 'Debug' : 'Release'))}`];
if (san) configure.push(`-DXCHAN_SANITIZER=${san}`);
if (spawnSync('ninja', ['--version']).status === 0) configure.push('-G', 'Ninja');
run('cmake', configure);
const jobs = process.env.XCHAN_JOBS || String(Math.min(2, os.cpus().length || 1));
run('cmake', ['--build', buildDir, '--target', 'xchan_node', '-j', jobs]);

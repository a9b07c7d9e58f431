// bench.js measures the AMI parser of the npm package asterisk-manager on
// recorded AMI streams, for the comparison in docs/performance.md.
//
// Usage: node bench.js MODULE_DIR TRACE.ami...
//
// MODULE_DIR is an asterisk-manager installed by compare.sh into a
// temporary folder (never into the repository). The package does not export
// its parser (ManagerReader in lib/ami.js, the 'data' handler of its
// socket), so this script loads lib/ami.js itself with one line appended
// that exports the function, and calls it unchanged, with no network: the
// trace bytes are handed to it in 64 KiB chunks, as a socket's 'data'
// events would deliver them. Only parsing is timed: the package's
// dispatch of each message (ManagerEvent, process.nextTick) is not.
//
// For each trace it prints one line in Go's benchmark format, so that
// compare.sh collects it with the Go benchmarks:
//   BenchmarkCompare/<version>/<trace>/asterisk-manager 1 <ns/op> ns/op <m> msgs/s
'use strict';

const fs = require('fs');
const path = require('path');
const Module = require('module');

const chunkSize = 64 << 10; // what a Node socket delivers per 'data' event
const minSeconds = 1;       // each trace is replayed for at least this long
const maxRounds = 1000;     // and at most this many times

function loadParser(dir) {
  const file = path.join(dir, 'node_modules', 'asterisk-manager', 'lib', 'ami.js');
  const src = fs.readFileSync(file, 'utf8');
  if (!src.includes('function ManagerReader(context, data)')) {
    throw new Error(file + ': no ManagerReader(context, data): another version of asterisk-manager?');
  }
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(src + '\nmodule.exports.ManagerReader = ManagerReader;\n', file);
  return m.exports.ManagerReader;
}

// run feeds body to a fresh parser state and returns the messages it emitted.
function run(reader, body) {
  let msgs = 0;
  const emitter = { emit(name) { if (name === 'rawevent') msgs++; } };
  const context = {};
  for (let off = 0; off < body.length; off += chunkSize) {
    reader.call(emitter, context, body.subarray(off, off + chunkSize));
  }
  return msgs;
}

function main(argv) {
  if (argv.length < 2) {
    process.stderr.write('usage: node bench.js MODULE_DIR TRACE.ami...\n');
    process.exit(2);
  }
  const reader = loadParser(argv[0]);
  for (const trace of argv.slice(1)) {
    const body = fs.readFileSync(trace);
    // The banner is skipped by the parser itself; count messages as the
    // Go benchmarks do, by their empty lines.
    const want = body.toString('latin1').split('\r\n\r\n').length - 1;
    run(reader, body); // warm up the JIT
    let msgs = 0, rounds = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0n;
    do {
      const got = run(reader, body);
      if (got !== want) {
        throw new Error(trace + ': parsed ' + got + ' messages, the trace holds ' + want);
      }
      msgs += got;
      rounds++;
      elapsed = process.hrtime.bigint() - t0;
    } while (elapsed < BigInt(minSeconds * 1e9) && rounds < maxRounds);
    const ns = Number(elapsed);
    const name = path.basename(path.dirname(trace)) + '/' + path.basename(trace);
    process.stdout.write('BenchmarkCompare/' + name + '/asterisk-manager \t' + msgs + '\t' +
      (ns / msgs).toFixed(1) + ' ns/op\t' + (msgs / (ns / 1e9)).toFixed(0) + ' msgs/s\n');
  }
}

main(process.argv.slice(2));

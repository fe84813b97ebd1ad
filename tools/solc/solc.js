#!/usr/bin/env node
// A native-solc look-alike around the npm `solc` package (solc-js), for py-solc-x and forge.
//
// No registry reachable here ships a native solc for linux, and `solcjs --standard-json`
// prints ">>> Cannot retry compilation with SMT ..." before its JSON, which breaks callers
// that parse stdout. This wrapper answers the few options those callers use and writes
// nothing but the answer on stdout:
//   --version | --help | --standard-json [FILE] [--base-path DIR] [--include-path DIR]...
//   [--allow-paths DIR,DIR]
// Imports not given inline in the JSON input are read from the base path (default: the
// working directory) or an include path, and only from inside those or an allowed path.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const USAGE = `solc.js (solc-js ${solc.version()} behind a native solc command line)

Usage: solc.js --standard-json [FILE] [--base-path DIR] [--include-path DIR]... [--allow-paths DIR,...]
       solc.js --version | --help

Reads Standard JSON input from FILE or stdin and writes Standard JSON output to stdout.
`;

function parseArgs(argv) {
  const opts = { includePaths: [], allowPaths: [], files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`option '${arg}' needs a value`);
      return argv[++i];
    };
    if (arg === '--version') opts.version = true;
    else if (arg === '--help') opts.help = true;
    else if (arg === '--standard-json') opts.standardJson = true;
    else if (arg === '--base-path') opts.basePath = value();
    else if (arg === '--include-path') opts.includePaths.push(value());
    else if (arg === '--allow-paths') opts.allowPaths.push(...value().split(',').filter(Boolean));
    else if (arg === '-' || !arg.startsWith('-')) opts.files.push(arg);
    else throw new Error(`unrecognised option '${arg}'`);
  }
  return opts;
}

function importCallback(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];
  const inside = (file) => allowed.some((dir) => !path.relative(dir, file).startsWith('..'));
  return (importPath) => {
    for (const root of roots) {
      const file = path.resolve(root, importPath);
      if (inside(file) && fs.existsSync(file)) return { contents: fs.readFileSync(file, 'utf8') };
    }
    return { error: `File not found inside the base path or any include path: ${importPath}` };
  };
}

function main(argv) {
  const opts = parseArgs(argv);
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  } else if (opts.help) {
    process.stdout.write(USAGE);
  } else if (opts.standardJson) {
    const source = opts.files.length && opts.files[0] !== '-' ? opts.files[0] : 0; // 0 = stdin
    const output = solc.compile(fs.readFileSync(source, 'utf8'), { import: importCallback(opts) });
    process.stdout.write(output + '\n');
  } else {
    throw new Error('nothing to do: give --standard-json, --version or --help');
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}

// The typings shipped in the packed tarball: a browser use (tests/package/browser-usage.ts)
// passes `tsc --noEmit --strict` against the installed package, and the public API has no `any`.
// Run by `make test-package`; typescript comes from tests/package/node_modules (make setup).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { installTarball } from './scratch.mjs';

const tsc = path.join(import.meta.dirname, 'node_modules', '.bin', 'tsc');
let scratch;

before(() => {
  assert.ok(existsSync(tsc), `${tsc} is missing: run \`make setup\``);
  scratch = installTarball();
});

after(() => scratch?.cleanup());

test('a browser use passes tsc --noEmit --strict against the shipped typings', () => {
  for (const f of ['browser-usage.ts', 'tsconfig.json']) copyFileSync(path.join(import.meta.dirname, f), path.join(scratch.dir, f));
  try {
    execFileSync(tsc, ['--noEmit', '--strict', '-p', scratch.dir], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});

test('the shipped package.json points both entries and the typings at shipped files', () => {
  const dir = path.join(scratch.dir, 'node_modules', 'webgan');
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'webgan');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.license, 'MIT');
  const entry = pkg.exports['.'];
  assert.deepEqual(Object.keys(entry), ['types', 'node', 'browser', 'default'], 'types first, then node before browser');
  for (const file of [entry.types, entry.node, entry.browser, 'wasm/webgan.js', 'wasm/webgan_bg.wasm', 'README.md']) {
    assert.ok(existsSync(path.join(dir, file)), `${file} is in the tarball`);
  }
  assert.ok(!existsSync(path.join(dir, 'wasm', 'package.json')), "wasm-pack's own package.json stays out");
  assert.match(readFileSync(path.join(dir, 'README.md'), 'utf8'), /^# webgan\n[\s\S]*npm install webgan/, 'the package README, not the crate\'s');
});

test('the public typings use no `any`', () => {
  const typings = readFileSync(path.join(scratch.dir, 'node_modules', 'webgan', 'index.d.ts'), 'utf8');
  const code = typings.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(code, /\bany\b/);
});

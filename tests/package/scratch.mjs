// Shared by the package tests: the packed tarball (dist/npm/webgan-*.tgz) installed with npm,
// offline, into a fresh scratch folder, as a user's project would get it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

/** The one tarball `make package` wrote. */
export function tarball() {
  const dir = path.join(root, 'dist', 'npm');
  const found = readdirSync(dir).filter((f) => /^webgan-.+\.tgz$/.test(f));
  if (found.length !== 1) throw new Error(`expected one webgan-*.tgz in ${dir}, found ${found.length}: run \`make package\``);
  return path.join(dir, found[0]);
}

/** A scratch project with the tarball installed; `cleanup()` removes it. */
export function installTarball() {
  const dir = mkdtempSync(path.join(tmpdir(), 'webgan-package-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball()], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

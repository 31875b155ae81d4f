import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** What `npm pack` puts in the tarball: an installed Hive has only these files. */
describe('the published package', () => {
  it('holds what the installed CLI loads at run time: the built code, the dashboard and every migration', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const files = new Set(
      (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path),
    );
    // The migrator reads ../../migrations from dist/store (src/store/migrator.ts); without them `hive up` on an
    // installed package cannot create its tables.
    const migrations = readdirSync(path.join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql'));
    expect(migrations.length).toBeGreaterThan(0);
    for (const m of migrations) expect(files, `migrations/${m}`).toContain(`migrations/${m}`);
    // Every entry point package.json names, and the dashboard the API serves.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      exports: Record<string, string>;
    };
    const entries = [...Object.values(pkg.bin), ...Object.values(pkg.exports)].map((f) => path.normalize(f));
    expect(entries).toContain('dist/index.js');
    for (const f of [...entries, 'dist/store/migrator.js', 'web/dist/index.html'])
      expect(files, f).toContain(f);
  });
});

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { Problem } from '../core/errors.js';
import { type CommandFile, parseCommandFile } from './command-file.js';

interface Cached {
  mtimeMs: number;
  size: number;
  result: ReturnType<typeof parseCommandFile>;
}

/**
 * Reads NAME.md files from the configured folders; a subfolder is a namespace (`git/review.md` → `git:review`).
 * Files are re-read when their mtime or size changes (checked on every use) and a watcher drops the cache on
 * any change, so an edited or new file is used on the next run without a restart. A broken file is reported
 * and the others keep working. Earlier folders win when two define the same name.
 */
export class CommandLoader {
  private readonly cache = new Map<string, Cached>();
  private watcher: FSWatcher | undefined;

  constructor(private readonly folders: readonly string[]) {}

  watch(): void {
    if (this.watcher) return;
    this.watcher = watch([...this.folders], { ignoreInitial: true, depth: 8 }).on('all', (_event, file) =>
      this.cache.delete(file),
    );
    this.watcher.on('error', () => {});
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }

  async load(): Promise<{ commands: Map<string, CommandFile>; errors: Problem[] }> {
    const commands = new Map<string, CommandFile>();
    const errors: Problem[] = [];
    for (const folder of this.folders) {
      for (const file of await listMarkdown(folder)) {
        const rel = path.relative(folder, file).replace(/\\/g, '/');
        const name = rel.slice(0, -3).split('/').join(':');
        if (commands.has(name)) continue;
        const result = await this.read(name, file);
        if (!result) continue;
        if (result.ok) commands.set(name, result.command);
        else errors.push(...result.problems);
      }
    }
    return { commands, errors };
  }

  private async read(name: string, file: string): Promise<ReturnType<typeof parseCommandFile> | undefined> {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(file);
    } catch {
      return undefined;
    }
    const hit = this.cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.result;
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const result = parseCommandFile(name, file, text);
    this.cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, result });
    return result;
  }
}

async function listMarkdown(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listMarkdown(p)));
    else if (e.isFile() && e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

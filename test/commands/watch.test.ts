import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CommandService } from '../../src/commands/service.js';
import { agentCommand, commandTree, taskInput, testConfig, writeCommand } from './helpers.js';

describe('edited and new command files', () => {
  it('are used on the next run without a restart, and deletions and breakage are seen too', async () => {
    const dir = commandTree({ 'review.md': agentCommand('Version one $1') });
    const s = new CommandService({ config: testConfig(dir) });
    await s.ready();
    try {
      expect(taskInput(await s.prepare('/review x')).prompt).toBe('Version one x');

      writeCommand(dir, 'review.md', agentCommand('Version two, longer $1'));
      writeCommand(dir, 'ns/fresh.md', agentCommand('Fresh $1'));
      expect(taskInput(await s.prepare('/review x')).prompt).toBe('Version two, longer x');
      expect(taskInput(await s.prepare('/ns:fresh y')).prompt).toBe('Fresh y');

      // Same size and the old mtime restored: only ctime (or the watcher) can tell.
      const file = path.join(dir, 'cmds', 'review.md');
      const before = statSync(file);
      writeFileSync(file, agentCommand('Version TWO, longer $1'));
      utimesSync(file, before.atime, before.mtime);
      expect(taskInput(await s.prepare('/review x')).prompt).toBe('Version TWO, longer x');

      writeCommand(dir, 'review.md', agentCommand('!`date`'));
      await expect(s.prepare('/review x')).rejects.toMatchObject({ code: 'HIVE_ERR_COMMAND_INVALID' });
      expect(taskInput(await s.prepare('/ns:fresh y')).prompt).toBe('Fresh y');

      rmSync(file);
      await expect(s.prepare('/review x')).rejects.toMatchObject({ code: 'HIVE_ERR_COMMAND_NOT_FOUND' });
      expect((await s.list()).errors).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('are reported by the watcher as they change, and close() stops it', async () => {
    const dir = commandTree({ 'review.md': agentCommand('one') });
    const seen: string[] = [];
    const s = new CommandService({ config: testConfig(dir), onChange: (f) => seen.push(path.basename(f)) });
    await s.ready();
    writeCommand(dir, 'review.md', agentCommand('two'));
    writeCommand(dir, 'new.md', agentCommand('new'));
    await vi.waitFor(() => expect(seen).toEqual(expect.arrayContaining(['review.md', 'new.md'])), {
      timeout: 5000,
      interval: 20,
    });
    await s.close();
    const count = seen.length;
    writeCommand(dir, 'later.md', agentCommand('later'));
    await new Promise((r) => setTimeout(r, 150));
    expect(seen.length).toBe(count);
  });
});

import path from 'node:path';
import type { HiveConfig } from '../core/config-file.js';
import { formatProblems, HiveError, type Problem } from '../core/errors.js';
import { planWorkflow } from '../engine/spec.js';
import { BUILTINS, type BuiltinOperations, isBuiltin, runBuiltin } from './builtins.js';
import type { CommandFile } from './command-file.js';
import { checkRequired } from './hint.js';
import { CommandLoader } from './loader.js';
import type { CommandInfo, PreparedRun } from './prepared.js';
import { splitArgs, splitInvocation } from './split-args.js';
import { suggestNames } from './suggest.js';
import { specFor } from './to-spec.js';

export type { BuiltinOperations } from './builtins.js';
export { type CommandInvokedData, commandInvokedData } from './invoked.js';
export type { CommandInfo, PreparedRun } from './prepared.js';

export interface CommandServiceOptions {
  config: HiveConfig;
  builtins?: BuiltinOperations;
  /** Watch the folders (default true). One-shot readers such as `hive doctor` turn it off. */
  watch?: boolean;
  /** Called with a file's path when the watcher sees it change, appear or go (only while watching). */
  onChange?: (file: string) => void;
}

/**
 * Slash commands (CONTRACT §8): lists them, and turns `/name args…` into either a validated workflow spec
 * or a built-in's answer. It submits and records nothing itself: the API route records `command.invoked`
 * (see commandInvokedData) and submits the spec under the run's correlation ID, so this module needs
 * neither Redis nor PostgreSQL and is tested on plain folders.
 */
export class CommandService {
  private readonly loader: CommandLoader;
  private builtins: BuiltinOperations | undefined;
  private readonly watching: Promise<void>;

  constructor(private readonly opts: CommandServiceOptions) {
    this.builtins = opts.builtins;
    this.loader = new CommandLoader(
      opts.config.commands.map((f) => path.resolve(opts.config.baseDir, f)),
      opts.onChange,
    );
    this.watching = opts.watch === false ? Promise.resolve() : this.loader.watch();
  }

  /** For wiring where the engine is built after the service. */
  setBuiltins(ops: BuiltinOperations): void {
    this.builtins = ops;
  }

  /** Resolves once the watcher has scanned the folders (immediately when not watching). */
  ready(): Promise<void> {
    return this.watching;
  }

  async list(): Promise<{ commands: CommandInfo[]; errors: Problem[] }> {
    const { commands, errors } = await this.loader.load();
    const infos = [...[...commands.values()].map(fileInfo), ...Object.entries(BUILTINS).map(builtinInfo)];
    return { commands: infos.sort((a, b) => a.name.localeCompare(b.name)), errors };
  }

  async prepare(text: string): Promise<PreparedRun> {
    const { name, rest } = splitInvocation(text);
    const args = splitArgs(rest);
    const command = `/${name}`;
    if (isBuiltin(name)) {
      const result = await runBuiltin(name, args, this.builtins);
      return { kind: 'builtin', command, args, argumentString: rest, result };
    }
    const { commands, broken } = await this.loader.load();
    const file = commands.get(name);
    if (!file) {
      const problems = broken.get(name);
      if (problems)
        throw new HiveError('HIVE_ERR_COMMAND_INVALID', formatProblems(`${command} is broken`, problems), {
          details: problems,
        });
      const suggestions = suggestNames(name, [...commands.keys(), ...Object.keys(BUILTINS)]).map(
        (n) => `/${n}`,
      );
      throw new HiveError(
        'HIVE_ERR_COMMAND_NOT_FOUND',
        `unknown command ${command}${suggestions.length ? ` (did you mean ${suggestions.join(', ')}?)` : ''}`,
        { details: { command, suggestions } },
      );
    }
    checkRequired(command, file.argumentHint, args);
    const spec = specFor(file, rest, args);
    // Validated here, not only at submission, so a bad agent name is reported as `/name: tasks.0.agent`.
    planWorkflow(spec, this.opts.config, `${command}: `);
    return { kind: 'workflow', command, args, argumentString: rest, file: file.file, spec };
  }

  async close(): Promise<void> {
    await this.loader.close();
  }
}

function fileInfo(c: CommandFile): CommandInfo {
  return {
    name: `/${c.name}`,
    description: c.description ?? null,
    argumentHint: c.argumentHint ?? null,
    kind: c.agent ? 'agent' : 'workflow',
    agent: c.agent ?? null,
    file: c.file,
    model: c.model ?? null,
    allowedTools: c.allowedTools ?? null,
    frontmatter: c.frontmatter,
  };
}

function builtinInfo([name, b]: [string, (typeof BUILTINS)[string]]): CommandInfo {
  return {
    name: `/${name}`,
    description: b.description,
    argumentHint: b.argumentHint ?? null,
    kind: 'builtin',
    agent: null,
    file: null,
    model: null,
    allowedTools: null,
    frontmatter: {},
  };
}

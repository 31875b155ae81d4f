import path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import type { HiveConfig } from '../core/config-file.js';
import { HiveError, type Problem } from '../core/errors.js';
import { planWorkflow } from '../engine/spec.js';
import { BUILTINS, type BuiltinOperations, requireOperations } from './builtins.js';
import type { CommandFile } from './command-file.js';
import { expand, expandDeep, requiredArguments } from './expand.js';
import { CommandLoader } from './loader.js';
import { splitArgs, splitInvocation } from './split-args.js';

export type { BuiltinOperations } from './builtins.js';

export interface CommandInfo {
  name: string;
  description: string | null;
  argumentHint: string | null;
  kind: 'agent' | 'workflow' | 'builtin';
  agent: string | null;
  file: string | null;
  frontmatter: Record<string, unknown>;
}

export type PreparedRun =
  | {
      kind: 'workflow';
      command: string;
      args: string[];
      argumentString: string;
      file: string | null;
      spec: Record<string, unknown>;
    }
  | { kind: 'builtin'; command: string; args: string[]; result: unknown };

/** Slash commands (CONTRACT §8): list them, and turn `/name args…` into a workflow spec or a built-in answer. */
export class CommandService {
  private readonly loader: CommandLoader;

  constructor(private readonly opts: { config: HiveConfig; builtins?: BuiltinOperations; watch?: boolean }) {
    this.loader = new CommandLoader(opts.config.commands.map((f) => path.resolve(opts.config.baseDir, f)));
    if (opts.watch !== false) this.loader.watch();
  }

  setBuiltins(ops: BuiltinOperations): void {
    (this.opts as { builtins?: BuiltinOperations }).builtins = ops;
  }

  async list(): Promise<{ commands: CommandInfo[]; errors: Problem[] }> {
    const { commands, errors } = await this.loader.load();
    const files: CommandInfo[] = [...commands.values()].map((c) => ({
      name: `/${c.name}`,
      description: c.description ?? null,
      argumentHint: c.argumentHint ?? null,
      kind: c.agent ? 'agent' : 'workflow',
      agent: c.agent ?? null,
      file: c.file,
      frontmatter: c.frontmatter,
    }));
    const builtins: CommandInfo[] = Object.entries(BUILTINS).map(([name, b]) => ({
      name: `/${name}`,
      description: b.description,
      argumentHint: b.argumentHint ?? null,
      kind: 'builtin',
      agent: null,
      file: null,
      frontmatter: {},
    }));
    return { commands: [...files, ...builtins].sort((a, b) => a.name.localeCompare(b.name)), errors };
  }

  async prepare(text: string): Promise<PreparedRun> {
    const { name, rest } = splitInvocation(text);
    const args = splitArgs(rest);
    const builtin = BUILTINS[name];
    if (builtin) {
      checkRequired(`/${name}`, builtin.argumentHint, args);
      return {
        kind: 'builtin',
        command: `/${name}`,
        args,
        result: await builtin.run(requireOperations(this.opts.builtins), args),
      };
    }
    const { commands, errors } = await this.loader.load();
    const command = commands.get(name);
    if (!command) {
      const broken = errors.filter((e) => e.path.includes(`${name.split(':').join(path.sep)}.md`));
      if (broken.length > 0) {
        throw new HiveError(
          'HIVE_ERR_COMMAND_INVALID',
          `/${name} is broken:\n${broken.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
          { details: broken },
        );
      }
      const names = [...commands.keys(), ...Object.keys(BUILTINS)];
      const suggestions = names
        .filter((n) => distance(n, name) <= Math.max(2, Math.floor(name.length / 3)))
        .map((n) => `/${n}`);
      if (suggestions.length === 0 && names.length > 0) suggestions.push(`/${closest(name, names)}`);
      throw new HiveError(
        'HIVE_ERR_COMMAND_NOT_FOUND',
        `unknown command /${name}${suggestions.length ? ` (did you mean ${suggestions.join(', ')}?)` : ''}`,
        {
          details: { suggestions },
        },
      );
    }
    checkRequired(`/${name}`, command.argumentHint, args);
    const spec = this.specFor(command, rest, args);
    planWorkflow(spec, this.opts.config, `/${name}: `);
    return { kind: 'workflow', command: `/${name}`, args, argumentString: rest, file: command.file, spec };
  }

  private specFor(command: CommandFile, argumentString: string, args: string[]): Record<string, unknown> {
    const prompt = expand(command.body, argumentString, args);
    if (command.agent) {
      return {
        name: `/${command.name} ${argumentString}`.trim().slice(0, 256),
        tasks: [
          {
            id: 'command',
            type: `command:${command.name}`,
            agent: command.agent,
            input: {
              prompt,
              command: `/${command.name}`,
              arguments: args,
              ...(command.model ? { model: command.model } : {}),
            },
          },
        ],
      };
    }
    const spec = expandDeep(command.workflow, argumentString, args) as Record<string, unknown>;
    return { name: `/${command.name} ${argumentString}`.trim().slice(0, 256), ...spec };
  }

  async close(): Promise<void> {
    await this.loader.close();
  }
}

function checkRequired(name: string, hint: string | undefined, args: string[]): void {
  const required = requiredArguments(hint);
  if (args.length < required.length) {
    const missing = required.slice(args.length);
    throw new HiveError(
      'HIVE_ERR_COMMAND_ARGS',
      `${name} needs ${missing.map((m) => `<${m}>`).join(' ')} (usage: ${name} ${hint})`,
      {
        details: { missing, hint },
      },
    );
  }
}

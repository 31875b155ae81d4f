import { HiveError } from '../core/errors.js';

/**
 * Splits an argument string with shell-style quoting — 'single', "double", backslash escapes, "" for an
 * empty argument — and nothing else: no variables, no globbing, no command substitution. The text is never
 * given to a shell; `$(…)` or `;` arrive as the literal characters they are.
 */
export function splitArgs(input: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1]!)) cur += input[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inArg = true;
    } else if (c === '\\') {
      if (i + 1 < input.length) cur += input[++i];
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) out.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (quote)
    throw new HiveError(
      'HIVE_ERR_COMMAND_ARGS',
      `unterminated ${quote === '"' ? 'double' : 'single'} quote in the arguments`,
    );
  if (inArg) out.push(cur);
  return out;
}

/** Splits `/name rest…` into the command name and its raw argument string. */
export function splitInvocation(text: string): { name: string; rest: string } {
  const trimmed = text.trim();
  const m = /^\/([A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*)(?:\s+([\s\S]*))?$/.exec(trimmed);
  if (!m)
    throw new HiveError('HIVE_ERR_COMMAND_ARGS', 'a command starts with / and a name, e.g. /feature todo');
  return { name: m[1]!, rest: m[2]?.trim() ?? '' };
}

import { HiveError } from '../core/errors.js';

/**
 * The separators a POSIX shell splits on. Unicode spaces (NBSP, U+2028…) are deliberately *not* separators:
 * they are content a user pasted, and splitting on them would change the text an agent receives.
 */
const SEPARATOR = /[ \t\n\r\f\v]/;

/**
 * Splits an argument string with shell-style quoting — 'single', "double", backslash escapes, "" for an
 * empty argument — and nothing else: no variables, no globbing, no command substitution, no operators.
 * The text is never given to a shell, so `$(…)`, `;`, `|` and backticks arrive as the characters they are.
 *
 * Differences from sh, each chosen to keep text literal: a trailing lone backslash stays a backslash (sh
 * would wait for a continuation line), and an escaped newline stays a newline (sh would remove it).
 * We do not use shell-quote: its parse() expands `$VAR` from the environment and turns `;`, `|`, `>` into
 * operator objects, both of which change what the user typed.
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
      // Inside double quotes sh only lets a backslash escape " \ $ ` and newline; others stay as typed.
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1]!)) cur += input[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inArg = true;
    } else if (c === '\\') {
      cur += i + 1 < input.length ? input[++i] : '\\';
      inArg = true;
    } else if (SEPARATOR.test(c)) {
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
      { details: { quote } },
    );
  if (inArg) out.push(cur);
  return out;
}

const INVOCATION = /^[ \t\n\r\f\v]*\/([A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*)(?:[ \t\n\r\f\v]+([\s\S]*))?$/;
/** What a command name may look like: file names outside this set are reported, not silently unreachable. */
export const COMMAND_NAME = /^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*$/;

/**
 * Splits `/name rest…` into the command name and its raw argument string (`$ARGUMENTS`). Surrounding
 * whitespace is dropped, except a trailing separator that a backslash escapes: that one is part of an argument.
 */
export function splitInvocation(text: string): { name: string; rest: string } {
  const m = INVOCATION.exec(text);
  if (!m)
    throw new HiveError(
      'HIVE_ERR_COMMAND_ARGS',
      'a command starts with / and a name, e.g. /feature todo (letters, digits, _ . - and : between namespaces)',
    );
  return { name: m[1]!, rest: trimEndUnescaped(m[2] ?? '') };
}

function trimEndUnescaped(s: string): string {
  let end = s.length;
  while (end > 0 && SEPARATOR.test(s[end - 1]!)) end--;
  let slashes = 0;
  while (end - slashes - 1 >= 0 && s[end - slashes - 1] === '\\') slashes++;
  // An odd run of backslashes escapes the first separator after it: keep that one.
  return slashes % 2 === 1 && end < s.length ? s.slice(0, end + 1) : s.slice(0, end);
}

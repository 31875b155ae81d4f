/**
 * Placeholders of Claude Code command files, substituted as plain text: `$ARGUMENTS` is the whole argument
 * string, `$ARGUMENTS[N]` the N-th argument (0-based), `$1`…`$9` the arguments (1-based). A missing argument
 * becomes the empty string. Substitution is one pass, so an argument containing `$2` stays literal.
 */
const PLACEHOLDER = /\$ARGUMENTS\[(\d+)\]|\$ARGUMENTS|\$([1-9])/g;

export function expand(text: string, argumentString: string, args: readonly string[]): string {
  return text.replace(PLACEHOLDER, (_m, index: string | undefined, pos: string | undefined) => {
    if (index !== undefined) return args[Number(index)] ?? '';
    if (pos !== undefined) return args[Number(pos) - 1] ?? '';
    return argumentString;
  });
}

/** Expands every string inside a JSON-like value (keys are left alone). */
export function expandDeep(value: unknown, argumentString: string, args: readonly string[]): unknown {
  if (typeof value === 'string') return expand(value, argumentString, args);
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, argumentString, args));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandDeep(v, argumentString, args)]),
    );
  }
  return value;
}

/** Arguments named in angle brackets in `argument-hint` are required: `<name> [--flag]`. */
export function requiredArguments(hint: string | undefined): string[] {
  return [...(hint ?? '').matchAll(/<([^<>]+)>/g)].map((m) => m[1]!.trim());
}

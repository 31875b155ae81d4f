/**
 * Placeholders of Claude Code command files, substituted as plain text: `$ARGUMENTS` is the whole argument
 * string, `$ARGUMENTS[N]` the N-th argument (0-based, as in Claude Code), `$1`…`$9` the arguments (1-based).
 * A missing argument becomes the empty string. Substitution is a single pass over the template, so an
 * argument that itself contains `$2` or `$ARGUMENTS` stays literal; `$10` is `$1` followed by `0`.
 */
const PLACEHOLDER = /\$ARGUMENTS\[(\d+)\]|\$ARGUMENTS|\$([1-9])/g;

export function expand(template: string, argumentString: string, args: readonly string[]): string {
  // A replacer function, not a replacement string: `$&` or `$1` inside an argument must not be interpreted.
  return template.replace(PLACEHOLDER, (_m, index: string | undefined, pos: string | undefined) => {
    if (index !== undefined) return args[Number(index)] ?? '';
    if (pos !== undefined) return args[Number(pos) - 1] ?? '';
    return argumentString;
  });
}

/** Expands every string inside a JSON-like value; keys are left alone (they are structure, not text). */
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

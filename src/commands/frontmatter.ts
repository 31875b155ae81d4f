import { isMap, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import type { Problem } from '../core/errors.js';
import { yamlValue } from '../core/yaml-value.js';

/**
 * The frontmatter keys Hive reads (CONTRACT §8). Claude Code's own keys are typed loosely, the way its files
 * are written in the wild; unknown keys (`disable-model-invocation`, a team's own) pass through untouched.
 */
export const frontmatterSchema = z.looseObject({
  description: z.string().optional(),
  'argument-hint': z.string().optional(),
  'allowed-tools': z.union([z.string(), z.array(z.string())]).optional(),
  model: z.string().optional(),
  agent: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an agent name (letters, digits, _ and -)')
    .optional(),
  workflow: z.record(z.string(), z.unknown(), 'expected a workflow spec (a mapping with tasks:)').optional(),
});

export type Frontmatter = z.infer<typeof frontmatterSchema>;

export interface SplitFile {
  /** Parsed frontmatter; `{}` when the file has none or it is broken. */
  data: Frontmatter;
  body: string;
  /** 1-based line of the body's first line in the file, so body problems can name their line. */
  bodyLine: number;
  problems: Problem[];
}

/**
 * Claude Code files commonly write `argument-hint: [message]` or `description: [WIP] …`, which YAML reads as
 * a list or rejects outright. Both keys are free text, so a top-level unquoted value starting with `[` or `{`
 * is taken as the literal text it is. The rewrite stays on its own line, so line numbers do not move.
 */
const TEXT_KEY = /^(argument-hint|description)([ \t]*:[ \t]+)([[{].*?)[ \t]*$/;

function quoteTextKeys(front: string): string {
  return front
    .split('\n')
    .map((line) => {
      const m = TEXT_KEY.exec(line);
      return m ? `${m[1]}${m[2]}${JSON.stringify(m[3])}` : line;
    })
    .join('\n');
}

/** The line of the deepest node on `keys` that exists; a missing key points at its parent mapping. */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, keys: PropertyKey[]): number {
  for (let n = keys.length; n >= 0; n--) {
    const node = (
      n === 0 ? doc.contents : doc.getIn(keys.slice(0, n) as (string | number)[], true)
    ) as Node | null;
    const start = node?.range?.[0];
    if (start !== undefined) return counter.linePos(start).line;
  }
  return 1;
}

/**
 * Splits a command file into frontmatter and body and validates the frontmatter. Every problem names the
 * file's own line (the opening `---` is line 1), because that is what an editor shows.
 */
export function readFrontmatter(file: string, source: string): SplitFile {
  // CRLF files are common on Windows checkouts; a lone CR left at the end of the YAML breaks its parser.
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  const problems: Problem[] = [];
  const at = (line: number, message: string) => problems.push({ path: `${file}:${line}`, message, line });
  const isFence = (l: string | undefined) => l !== undefined && l.trimEnd() === '---';

  if (!isFence(lines[0])) return { data: {}, body: text, bodyLine: 1, problems };
  const close = lines.findIndex((l, i) => i > 0 && isFence(l));
  if (close < 0) {
    at(1, 'the frontmatter opened with --- is never closed by a --- line');
    return { data: {}, body: '', bodyLine: lines.length + 1, problems };
  }
  const body = lines.slice(close + 1).join('\n');
  const bodyLine = close + 2;
  const front = quoteTextKeys(lines.slice(1, close).join('\n'));
  // The frontmatter text starts on the file's line 2: every YAML line is shifted by one.
  const fileLine = (yamlLine: number) => yamlLine + 1;

  const counter = new LineCounter();
  const doc = parseDocument(front, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  for (const e of doc.errors) {
    at(fileLine(e.linePos?.[0]?.line ?? 1), `frontmatter: ${e.message.split('\n')[0]}`);
  }
  if (doc.errors.length > 0) return { data: {}, body, bodyLine, problems };

  // toJS() can still throw on a document that parsed (an alias to a missing anchor, an alias bomb).
  const value = yamlValue(doc);
  if (!value.ok) {
    at(2, `frontmatter: ${value.message}`);
    return { data: {}, body, bodyLine, problems };
  }
  const js: unknown = value.value ?? {};
  if (typeof js !== 'object' || Array.isArray(js) || (doc.contents && !isMap(doc.contents))) {
    at(2, 'the frontmatter must be a mapping of keys (key: value)');
    return { data: {}, body, bodyLine, problems };
  }
  const parsed = frontmatterSchema.safeParse(js);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.map(String).join('.') || 'frontmatter';
      at(fileLine(lineOf(doc, counter, issue.path)), `${key}: ${issue.message}`);
    }
    return { data: {}, body, bodyLine, problems };
  }
  return { data: parsed.data, body, bodyLine, problems };
}

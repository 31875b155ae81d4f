import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { Problem } from '../core/errors.js';

/** A parsed command file (Claude Code's format plus Hive's `agent:` and `workflow:` keys, CONTRACT §8). */
export interface CommandFile {
  name: string;
  file: string;
  description?: string;
  argumentHint?: string;
  allowedTools?: string[] | string;
  model?: string;
  agent?: string;
  workflow?: Record<string, unknown>;
  /** Every frontmatter key, known or not. */
  frontmatter: Record<string, unknown>;
  body: string;
}

const frontmatterSchema = z
  .object({
    description: z.string().optional(),
    'argument-hint': z.string().optional(),
    'allowed-tools': z.union([z.string(), z.array(z.string())]).optional(),
    model: z.string().optional(),
    agent: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an agent name')
      .optional(),
    workflow: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type ParseResult = { ok: true; command: CommandFile } | { ok: false; problems: Problem[] };

/** Parses a command file's text; problems name the file, the line and what is wrong. */
export function parseCommandFile(name: string, file: string, text: string): ParseResult {
  const problems: Problem[] = [];
  const at = (line: number | undefined, message: string) =>
    problems.push({ path: `${file}${line ? `:${line}` : ''}`, message, ...(line ? { line } : {}) });
  let frontText = '';
  let body = text;
  let bodyStartLine = 1;
  const fm = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (fm) {
    frontText = fm[1]!;
    body = text.slice(fm[0].length);
    bodyStartLine = fm[0].split('\n').length;
  } else if (text.startsWith('---')) {
    at(1, 'frontmatter starts with --- but is never closed');
  }
  let front: Record<string, unknown> = {};
  if (frontText) {
    const counter = new LineCounter();
    const doc = parseDocument(frontText, { lineCounter: counter, prettyErrors: true });
    for (const e of doc.errors)
      at((e.linePos?.[0]?.line ?? 0) + 1, `frontmatter: ${e.message.split('\n')[0]}`);
    if (doc.errors.length === 0) {
      const js = doc.toJS() ?? {};
      if (typeof js !== 'object' || Array.isArray(js)) at(2, 'frontmatter must be a mapping of keys');
      else {
        const parsed = frontmatterSchema.safeParse(js);
        if (!parsed.success) {
          for (const i of parsed.error.issues) {
            const node = doc.getIn(i.path as (string | number)[], true) as { range?: [number] } | undefined;
            const line = node?.range ? counter.linePos(node.range[0]).line + 1 : 2;
            at(line, `${i.path.join('.') || 'frontmatter'}: ${i.message}`);
          }
        } else front = parsed.data;
      }
    }
  }
  body.split('\n').forEach((line, i) => {
    // Claude Code runs `!` lines through a shell before the prompt is sent; Hive never runs a shell.
    if (/^\s*!`/.test(line))
      at(bodyStartLine + i, 'shell pre-commands (lines starting with !`) are not allowed in Hive');
  });
  if (front.agent && front.workflow) at(2, 'use either agent: or workflow:, not both');
  if (!front.agent && !front.workflow && problems.length === 0)
    at(1, 'a Hive command needs agent: NAME or workflow: {…} in its frontmatter');
  if (problems.length > 0) return { ok: false, problems };
  const command: CommandFile = { name, file, frontmatter: front, body: body.trim() };
  if (typeof front.description === 'string') command.description = front.description;
  if (typeof front['argument-hint'] === 'string') command.argumentHint = front['argument-hint'];
  if (front['allowed-tools'] !== undefined)
    command.allowedTools = front['allowed-tools'] as string[] | string;
  if (typeof front.model === 'string') command.model = front.model;
  if (typeof front.agent === 'string') command.agent = front.agent;
  if (front.workflow) command.workflow = front.workflow as Record<string, unknown>;
  return { ok: true, command };
}

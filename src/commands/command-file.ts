import type { Problem } from '../core/errors.js';
import { readFrontmatter } from './frontmatter.js';

/** A parsed command file: Claude Code's format plus Hive's `agent:` and `workflow:` keys (CONTRACT §8). */
export interface CommandFile {
  /** Without the slash: `review`, `git:review`. */
  name: string;
  file: string;
  description?: string;
  argumentHint?: string;
  allowedTools?: string[] | string;
  model?: string;
  agent?: string;
  workflow?: Record<string, unknown>;
  /** Every frontmatter key, known or not, as written. */
  frontmatter: Record<string, unknown>;
  body: string;
}

export type ParseResult = { ok: true; command: CommandFile } | { ok: false; problems: Problem[] };

/**
 * Claude Code runs `` !`cmd` `` through a shell before sending the prompt. Hive never runs a shell, and
 * silently sending the text instead would hand the agent a prompt without the output it expects, so the file
 * is refused. The contract names lines that start with it; inline uses (`- status: !`git status``, the form
 * Claude Code's docs show) are refused too, for the same reason.
 */
const LINE_START = /^\s*!`/;
const INLINE = /(^|\s)!`[^`\n]+`/;

function shellPreCommands(body: string, bodyLine: number, file: string): Problem[] {
  const problems: Problem[] = [];
  body.split('\n').forEach((text, i) => {
    if (LINE_START.test(text) || INLINE.test(text)) {
      const line = bodyLine + i;
      problems.push({
        path: `${file}:${line}`,
        line,
        message:
          'shell pre-commands (!`…`) are not run by Hive: remove them, or ask the agent to run the command itself',
      });
    }
  });
  return problems;
}

/** Parses a command file's text; every problem names the file, the line and what is wrong. */
export function parseCommandFile(name: string, file: string, text: string): ParseResult {
  const { data, body, bodyLine, problems } = readFrontmatter(file, text);
  problems.push(...shellPreCommands(body, bodyLine, file));
  const broken = problems.length > 0;
  if (!broken && data.agent && data.workflow)
    problems.push({ path: `${file}:1`, line: 1, message: 'use either agent: or workflow:, not both' });
  if (!broken && !data.agent && !data.workflow)
    problems.push({
      path: `${file}:1`,
      line: 1,
      message: 'a Hive command needs agent: NAME or workflow: {tasks: […]} in its frontmatter',
    });
  if (problems.length > 0) return { ok: false, problems };

  const command: CommandFile = { name, file, frontmatter: data, body: body.trim() };
  if (data.description !== undefined) command.description = data.description;
  if (data['argument-hint'] !== undefined) command.argumentHint = data['argument-hint'];
  if (data['allowed-tools'] !== undefined) command.allowedTools = data['allowed-tools'];
  if (data.model !== undefined) command.model = data.model;
  if (data.agent !== undefined) command.agent = data.agent;
  if (data.workflow !== undefined) command.workflow = data.workflow;
  return { ok: true, command };
}

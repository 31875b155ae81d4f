/**
 * Which `hive.yaml` options each coding-agent runner accepts, and the values it accepts for them. Options map
 * onto documented flags of the real CLIs only; an option a CLI has no flag for is refused at start (a silent
 * no-op would let a `budgetUsd` that is never enforced look like protection).
 *
 * `enforced` marks options Hive applies itself from the tool's own output because the CLI has no flag:
 * codex `maxTurns` (Hive counts `turn.started` events) and aider `budgetUsd` (Hive reads its cost lines).
 */
export const CODING_RUNNERS = ['claude-code', 'codex', 'gemini', 'aider'] as const;
export type CodingRunnerName = (typeof CODING_RUNNERS)[number];

export function isCodingRunner(runner: string): runner is CodingRunnerName {
  return (CODING_RUNNERS as readonly string[]).includes(runner);
}

export interface OptionSupport {
  maxTurns: 'flag' | 'enforced' | false;
  budgetUsd: 'flag' | 'enforced' | false;
  permissionMode: readonly string[] | false;
  sandbox: readonly string[] | false;
  allowedTools: boolean;
}

export const OPTION_SUPPORT: Record<CodingRunnerName, OptionSupport> = {
  // claude --max-turns, --max-budget-usd, --permission-mode, --allowedTools
  'claude-code': {
    maxTurns: 'flag',
    budgetUsd: 'flag',
    permissionMode: ['default', 'acceptEdits', 'plan', 'bypassPermissions', 'dontAsk'],
    sandbox: false,
    allowedTools: true,
  },
  // codex exec --sandbox
  codex: {
    maxTurns: 'enforced',
    budgetUsd: false,
    permissionMode: false,
    sandbox: ['read-only', 'workspace-write', 'danger-full-access'],
    allowedTools: false,
  },
  // gemini --approval-mode; the turn limit ends a run with exit code 53 (settings.json), not a flag
  gemini: {
    maxTurns: false,
    budgetUsd: false,
    permissionMode: ['default', 'auto_edit', 'yolo'],
    sandbox: false,
    allowedTools: false,
  },
  // aider prints "Cost: $x message, $y session." after each reply
  aider: {
    maxTurns: false,
    budgetUsd: 'enforced',
    permissionMode: false,
    sandbox: false,
    allowedTools: false,
  },
};

export interface CodingOptionProblem {
  key: string;
  message: string;
}

/** Problems with an agent's coding options for its runner (empty when all is well). */
export function codingOptionProblems(
  runner: CodingRunnerName,
  agent: {
    maxTurns?: number | undefined;
    budgetUsd?: number | undefined;
    permissionMode?: string | undefined;
    sandbox?: string | undefined;
    allowedTools?: readonly string[] | undefined;
  },
): CodingOptionProblem[] {
  const support = OPTION_SUPPORT[runner];
  const problems: CodingOptionProblem[] = [];
  const unsupported = (key: string) =>
    problems.push({
      key,
      message: `not supported by runner "${runner}" (the CLI has no documented flag for it)`,
    });
  if (agent.maxTurns !== undefined && !support.maxTurns) unsupported('maxTurns');
  if (agent.budgetUsd !== undefined && !support.budgetUsd) unsupported('budgetUsd');
  if (agent.allowedTools !== undefined && !support.allowedTools) unsupported('allowedTools');
  for (const key of ['permissionMode', 'sandbox'] as const) {
    const value = agent[key];
    if (value === undefined) continue;
    const allowed = support[key];
    if (!allowed) unsupported(key);
    else if (!allowed.includes(value))
      problems.push({ key, message: `expected one of ${allowed.join(', ')} for runner "${runner}"` });
  }
  return problems;
}

import { isCodingRunner } from '../core/coding-options.js';
import type { AgentConfig } from '../core/config-file.js';
import { HiveError } from '../core/errors.js';
import type { Runner } from './runner.js';
import { CodingRunner, GitRunner } from './runners/coding-runner.js';
import { CommandRunner } from './runners/command-runner.js';
import { HttpRunner } from './runners/http-runner.js';

/** The runner for a configured agent. `sdk` agents run in their own processes (runAgent), not here. */
export function createRunner(name: string, agent: AgentConfig, baseDir: string): Runner {
  switch (agent.runner) {
    case 'command':
      return new CommandRunner(agent, baseDir);
    case 'http':
      return new HttpRunner(agent);
    case 'git':
      return new GitRunner(agent, baseDir);
    case 'sdk':
      throw new HiveError(
        'HIVE_ERR_CONFIG_INVALID',
        `agent "${name}" uses runner "sdk": start it in your own process with runAgent() (agent-hive/sdk)`,
      );
    default:
      if (isCodingRunner(agent.runner)) return new CodingRunner(agent.runner, agent, baseDir);
      throw new HiveError(
        'HIVE_ERR_CONFIG_INVALID',
        `agent "${name}": runner "${agent.runner}" is not available in this build`,
      );
  }
}

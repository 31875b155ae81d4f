import type { CommandFile } from './command-file.js';
import { expand, expandDeep } from './expand.js';

/** The spec's `name` is capped at 256 characters by the workflow schema (src/engine/spec.ts). */
const MAX_NAME = 256;

/**
 * Turns a command file and its arguments into a workflow spec (CONTRACT §5):
 * - `agent: NAME` → one task of type `command:<name>` whose input `prompt` is the expanded body; the raw
 *   arguments travel too, so an agent never has to re-split the prompt;
 * - `workflow:` → the inline spec with every string expanded; its own `name` wins over the default.
 * Nothing here validates: the caller runs planWorkflow so problems are reported with the command's name.
 */
export function specFor(
  command: CommandFile,
  argumentString: string,
  args: readonly string[],
): Record<string, unknown> {
  const name = `/${command.name} ${argumentString}`.trim().slice(0, MAX_NAME);
  if (command.agent) {
    const input: Record<string, unknown> = {
      prompt: expand(command.body, argumentString, args),
      command: `/${command.name}`,
      arguments: [...args],
    };
    if (command.model !== undefined) input.model = command.model;
    if (command.allowedTools !== undefined) input.allowedTools = command.allowedTools;
    return {
      name,
      tasks: [{ id: 'command', type: `command:${command.name}`, agent: command.agent, input }],
    };
  }
  const spec = expandDeep(command.workflow ?? {}, argumentString, args) as Record<string, unknown>;
  return { name, ...spec };
}

import type { PreparedRun } from './prepared.js';

/** The `data` of the `command.invoked` event (CONTRACT §7), one shape for the API and the CLI. */
export interface CommandInvokedData {
  /** With the slash: `/feature`. */
  command: string;
  /** The raw argument string, as `$ARGUMENTS` saw it. */
  arguments: string;
  /** The arguments after shell-style splitting. */
  args: string[];
  /** The command file; null for built-ins. */
  file: string | null;
  kind: PreparedRun['kind'];
}

export function commandInvokedData(prepared: PreparedRun): CommandInvokedData {
  return {
    command: prepared.command,
    arguments: prepared.argumentString,
    args: [...prepared.args],
    file: prepared.kind === 'workflow' ? prepared.file : null,
    kind: prepared.kind,
  };
}

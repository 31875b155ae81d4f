/** What a slash command resolves to, before anything is submitted or recorded. */
export type PreparedRun =
  | {
      kind: 'workflow';
      /** With the slash: `/git:review`. */
      command: string;
      args: string[];
      argumentString: string;
      file: string | null;
      /** A workflow spec (CONTRACT §5) already validated against the configuration. */
      spec: Record<string, unknown>;
    }
  | {
      kind: 'builtin';
      command: string;
      args: string[];
      argumentString: string;
      /** The built-in's answer, already computed. */
      result: unknown;
    };

/** One entry of `GET /api/commands`. */
export interface CommandInfo {
  name: string;
  description: string | null;
  argumentHint: string | null;
  kind: 'agent' | 'workflow' | 'builtin';
  agent: string | null;
  file: string | null;
  model: string | null;
  allowedTools: string[] | string | null;
  /** Every frontmatter key as written, unknown ones included. */
  frontmatter: Record<string, unknown>;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HiveEnv } from '../core/config-env.js';
import type { EngineDeps } from '../engine/deps.js';
import type { Router } from '../engine/router.js';
import type { EventHub } from './event-hub.js';

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** One check of /ready (health+json): pass, warn (still ready) or fail (503). */
export interface ReadyCheckResult {
  status: 'pass' | 'warn' | 'fail';
  output?: string;
  observedValue?: unknown;
}
export type ReadyCheck = () => Promise<ReadyCheckResult>;

export interface ApiContext {
  deps: EngineDeps;
  env: HiveEnv;
  hub: EventHub;
  router: Router;
  commands?: CommandsPort | undefined;
  /** Checks the embedding process adds to /ready (a coordinator's loop, a supervisor's children…). */
  readyChecks: Readonly<Record<string, ReadyCheck>>;
  state: { draining: boolean; started: boolean };
}

/** What the API needs from the slash-command service (src/commands). */
export interface CommandsPort {
  list(): Promise<{ commands: unknown[]; errors: unknown[] }>;
  prepare(text: string): Promise<
    | {
        kind: 'workflow';
        command: string;
        args: string[];
        argumentString: string;
        file?: string | null;
        spec: unknown;
      }
    | { kind: 'builtin'; command: string; args: string[]; result: unknown }
  >;
  close?(): Promise<void> | void;
}

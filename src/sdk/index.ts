export type { RunnerTask as Task } from '../agents/runner.js';
export type { HandlerContext, TaskHandler } from '../agents/runners/sdk-runner.js';
export { HiveClient, type HiveClientOptions, type SubmitAnswer } from './hive-client.js';
export { type RunAgentOptions, type RunningAgent, runAgent } from './run-agent.js';

// The package's main entry (`import … from 'agent-hive'`): the agent SDK, the same as 'agent-hive/sdk'. The
// coordinator, API and CLI are run through the `hive` command, not imported.
export * from './sdk/index.js';

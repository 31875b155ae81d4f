/**
 * The Redis key layout. Each agent's keys share the hash tag `{agent:NAME}` and the coordinator's share
 * `{coord}`, so every multi-key command touches one slot and the layout works on Redis Cluster.
 * A prefix keeps installations (and test runs) sharing one Redis apart.
 */
export const WORKER_GROUP = 'workers';
export const COORDINATOR_GROUP = 'coordinators';

export class Keys {
  constructor(readonly prefix = 'hive') {}

  agentTasks(agent: string): string {
    return `${this.prefix}:{agent:${agent}}:tasks`;
  }
  /** An instance's heartbeat key; it exists only while the instance beats (TTL). */
  instance(agent: string, instanceId: string): string {
    return `${this.prefix}:{agent:${agent}}:instance:${instanceId}`;
  }
  instancePattern(agent: string): string {
    return `${this.prefix}:{agent:${agent}}:instance:*`;
  }
  /** Pub/sub channel for cancellation signals to an agent's instances. */
  agentControl(agent: string): string {
    return `${this.prefix}:{agent:${agent}}:control`;
  }
  results(): string {
    return `${this.prefix}:{coord}:results`;
  }
  /** Capped stream of committed events, read by the API's live fan-out. */
  events(): string {
    return `${this.prefix}:{events}:live`;
  }
  deadLetters(): string {
    return `${this.prefix}:{dlq}:entries`;
  }
  /** Leader lease for the coordinator's periodic sweeps, so two coordinators do not sweep at once. */
  sweepLease(): string {
    return `${this.prefix}:{coord}:sweep-lease`;
  }
}

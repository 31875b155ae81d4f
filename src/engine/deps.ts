import type { Keys } from '../bus/keys.js';
import type { Redis } from '../bus/redis.js';
import type { HiveConfig } from '../core/config-file.js';
import type { Logger } from '../core/logger.js';
import type { Db } from '../store/database.js';

/** What the engine's operations need; built once at boot and passed down (no module-level singletons). */
export interface EngineDeps {
  readonly db: Db;
  /** A non-blocking connection for writes (XADD, pipelines). */
  readonly redis: Redis;
  readonly keys: Keys;
  readonly config: HiveConfig;
  readonly logger: Logger;
}

/**
 * One instance of something per deps (the process's dispatcher, its workflow cache): created on first use,
 * shared by everything built on the same deps, gone with them.
 */
export function perDeps<T>(create: (deps: EngineDeps) => T): (deps: EngineDeps) => T {
  const instances = new WeakMap<EngineDeps, T>();
  return (deps) => {
    let instance = instances.get(deps);
    if (instance === undefined) {
      instance = create(deps);
      instances.set(deps, instance);
    }
    return instance;
  };
}

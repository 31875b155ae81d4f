import { HiveClient } from '../sdk/hive-client.js';

/** The CLI's API client: HIVE_URL and HIVE_API_TOKEN from the environment (CONTRACT §2). */
export function cliClient(): HiveClient {
  return new HiveClient({
    url: process.env.HIVE_URL || 'http://127.0.0.1:4483',
    token: process.env.HIVE_API_TOKEN || undefined,
  });
}

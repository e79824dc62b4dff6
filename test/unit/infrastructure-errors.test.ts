import { describe, expect, it } from 'vitest';
import { mapRedisError } from '../../src/shared/infrastructure-errors.js';

/** Messages as ioredis (standalone and Cluster) and Redis word them during outages and failovers. */
const topologyFaults = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'connect ECONNREFUSED 127.0.0.1:7001',
  'Command timed out',
  'LOADING Redis is loading the dataset in memory',
  "READONLY You can't write against a read only replica.",
  "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
  'CLUSTERDOWN The cluster is down',
  'CLUSTERDOWN Hash slot not served',
  'TRYAGAIN Multiple keys request during rehashing of slot',
  'MOVED 3999 127.0.0.1:7004',
  'ASK 3999 127.0.0.1:7004',
  'Too many Cluster redirections. Last error: Error: Connection is closed.',
  "Cluster isn't ready and enableOfflineQueue options is false",
  'Failed to refresh slots cache.',
  'None of startup nodes is available',
  'Cluster is ended.',
];

describe('Redis errors', () => {
  it.each(topologyFaults)('a topology fault is 503 SERVICE_UNAVAILABLE: %s', (message) => {
    expect(mapRedisError(new Error(message))).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
  });

  it('leaves a bug a bug: a script error or a cross-slot command is not an outage', () => {
    for (const message of [
      "CROSSSLOT Keys in request don't hash to the same slot",
      'ERR Error running script (call to f_1): user_script:1: attempt to compare nil with number',
      'WRONGTYPE Operation against a key holding the wrong kind of value',
      'The user asked to be moved',
    ]) {
      expect(mapRedisError(new Error(message)), message).toBeUndefined();
    }
  });
});

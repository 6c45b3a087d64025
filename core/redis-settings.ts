// REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES and the settings beside
// them, as core/config.ts has read them, checked together and turned into
// where Redis is and the key prefix to use there.
import type { HostPort, RedisTarget } from './redis.ts';

export const HOST_PORT_LIST = /^\s*[A-Za-z0-9_.:[\]-]+:\d{1,5}\s*(,\s*[A-Za-z0-9_.:[\]-]+:\d{1,5}\s*)*$/;

export type RedisSettings = {
  url: string;
  prefix: string;
  sentinels: string | undefined;
  sentinelName: string | undefined;
  clusterNodes: string | undefined;
  waitReplicas: number;
};

// Where Redis is and the key prefix, or the problem with the settings.
// In cluster mode the prefix is REDIS_PREFIX as a hash tag ("{tfcompute}"):
// every key, BullMQ's too, then hashes to one slot, so the multi-key scripts
// stay valid. A single server or Sentinel keeps the prefix as it always was,
// so an installation's existing keys are where they were.
export function redisSettings(s: RedisSettings): { target: RedisTarget; prefix: string } | string {
  // Sentinel and Cluster are two ways of finding the primary: one at a time.
  if (s.sentinels !== undefined && s.clusterNodes !== undefined)
    return 'REDIS_SENTINELS: set it or REDIS_CLUSTER_NODES, not both';
  if (s.sentinels !== undefined && s.sentinelName === undefined)
    return 'REDIS_SENTINEL_NAME: needed with REDIS_SENTINELS (the name the sentinels know the primary by)';
  if (s.sentinels === undefined && s.sentinelName !== undefined)
    return 'REDIS_SENTINEL_NAME: only means something with REDIS_SENTINELS';
  // WAIT goes to one server; a cluster client would send it to any primary.
  if (s.clusterNodes !== undefined && s.waitReplicas > 0)
    return 'REDIS_WAIT_REPLICAS: not supported with REDIS_CLUSTER_NODES';
  if (s.sentinels !== undefined)
    return {
      target: { kind: 'sentinel', sentinels: hostPorts(s.sentinels), name: s.sentinelName as string, url: s.url },
      prefix: s.prefix,
    };
  if (s.clusterNodes !== undefined)
    return { target: { kind: 'cluster', nodes: hostPorts(s.clusterNodes), url: s.url }, prefix: `{${s.prefix}}` };
  return { target: { kind: 'single', url: s.url }, prefix: s.prefix };
}

function hostPorts(list: string): HostPort[] {
  return list.split(',').map((item) => {
    const at = item.trim().lastIndexOf(':');
    return {
      host: item
        .trim()
        .slice(0, at)
        .replace(/^\[(.*)\]$/, '$1'),
      port: Number(item.trim().slice(at + 1)),
    };
  });
}

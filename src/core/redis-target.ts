import { ConfigError } from './errors.js';

/**
 * Where the bridge's Redis is, as REDIS_URL names it: one server (`redis://host:6379`,
 * `rediss://` for TLS; a Sentinel-fronted or managed Redis is reached the same way, through its
 * endpoint), or a Redis Cluster (`redis+cluster://[user:pass@]host:port[,host:port…]`,
 * `rediss+cluster://` for TLS): the listed nodes are seeds, the client learns the rest of the
 * cluster from them. One variable for both, so every tool that passes the URL along (the
 * bench, `handoff vault`, child processes) reaches a cluster unchanged.
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly { readonly host: string; readonly port: number }[];
      readonly username?: string;
      readonly password?: string;
      readonly tls: boolean;
    };

const clusterUrl = /^(rediss?)\+cluster:\/\/(?:([^@/\s]*)@)?([^@/?#\s]+)\/?$/;

/** True when `url` is the cluster form (whether or not it is well made). */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:/.test(url);
}

function nodeOf(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3] ?? 6379);
  if (port < 1 || port > 65_535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

function decoded(part: string | undefined): string | undefined {
  if (!part) return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Reads REDIS_URL, or throws a ConfigError naming it and the shape expected. */
export function parseRedisTarget(url: string): RedisTarget {
  if (!isClusterUrl(url)) return { kind: 'single', url };
  const match = clusterUrl.exec(url);
  const nodes = match?.[3]?.split(',').map(nodeOf);
  if (!match || !nodes || nodes.some((n) => n === undefined)) {
    throw new ConfigError(
      'REDIS_URL',
      'REDIS_URL for a Redis Cluster must look like redis+cluster://host1:7000,host2:7001 ' +
        '(rediss+cluster:// for TLS, user:password@ before the first node when the cluster needs them)',
    );
  }
  const [user, password] = (match[2] ?? '').split(/:(.*)/s);
  return {
    kind: 'cluster',
    nodes: nodes as { host: string; port: number }[],
    tls: match[1] === 'rediss',
    ...(decoded(user) ? { username: decoded(user) } : {}),
    ...(decoded(password) ? { password: decoded(password) } : {}),
  };
}

/** True when a cluster URL reads (see parseRedisTarget). */
export function wellMadeClusterUrl(url: string): boolean {
  try {
    parseRedisTarget(url);
    return true;
  } catch {
    return false;
  }
}

/** The URL with any password removed, for messages. */
export function redactUrl(url: string): string {
  // Up to the last '@' before the node list (which has none): a password may hold an unencoded '@'.
  if (isClusterUrl(url)) return url.replace(/\/\/([^@/:\s]*):[^/\s]*@/, '//$1:***@');
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured REDIS_URL';
  }
}

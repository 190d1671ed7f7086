import IORedis, { type RedisOptions } from 'ioredis';
import { CbnnError, ExitCode, InvalidInputError } from '@cbnn/core';

/** BullMQ's own floor (RedisConnection.minimumVersion): its Lua scripts need Redis 5 streams. */
export const MIN_REDIS_VERSION = '5.0.0';

/** Redis cannot be used: unreachable, authentication refused, too old. CLI exit code 7. */
export class UnavailableError extends CbnnError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super('unavailable', message, { exitCode: ExitCode.unavailable, hint, cause });
  }
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

export function parseRedisUrl(url: string, option = '--redis'): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidInputError(`${option} ${url}: not a URL (expected redis://[user:password@]host:port[/db])`, { field: option });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InvalidInputError(`${option} ${redactRedisUrl(url)}: expected a redis:// or rediss:// URL, got '${u.protocol}'`, { field: option });
  }
  return u;
}

/** Compares dotted versions numerically: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** `redis_version` from the text of `INFO server`, checked against the floor. */
export function checkRedisInfo(info: string, url: string): { version: string } {
  const version = /^redis_version:(\S+)/m.exec(info)?.[1];
  if (!version) throw new UnavailableError(`Redis at ${redactRedisUrl(url)} did not report redis_version in INFO server; is it Redis?`);
  if (compareVersions(version, MIN_REDIS_VERSION) < 0) {
    throw new UnavailableError(
      `Redis at ${redactRedisUrl(url)} is version ${version}; BullMQ needs Redis >= ${MIN_REDIS_VERSION}`,
      'upgrade Redis (Debian: apt-get install redis-server)',
    );
  }
  return { version };
}

/** Turns a connection error into the user-facing reason. */
export function describeRedisError(e: unknown, url: string): UnavailableError {
  const err = e as Error & { code?: string };
  const msg = err?.message ?? String(e);
  const where = redactRedisUrl(url);
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password|AUTH.*(failed|without any password)/i.test(msg)) {
    return new UnavailableError(`Redis at ${where} refused authentication: ${msg}`, 'put the user and password in the URL: redis://user:password@host:port', e);
  }
  const reason = err?.code === 'ECONNREFUSED' ? 'connection refused' : err?.code === 'ENOTFOUND' ? 'unknown host' : msg;
  return new UnavailableError(`cannot reach Redis at ${where}: ${reason}`, 'start Redis (redis-server) or pass the right --redis URL', e);
}

/**
 * Connects once, without retrying, and checks that this Redis can carry the queue: reachable,
 * authenticated, version >= 5.0. Throws an UnavailableError naming the URL otherwise.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<{ version: string }> {
  parseRedisUrl(url);
  const client = new IORedis(url, {
    lazyConnect: true,
    // The timer below bounds the whole check (connect, AUTH, INFO).
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  client.on('error', (e) => (lastError = e));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
  });
  try {
    const info = await Promise.race([client.connect().then(() => client.info('server')), timeout]);
    return checkRedisInfo(info, url);
  } catch (e) {
    if (e instanceof UnavailableError) throw e;
    // ioredis reports "Connection is closed." after the socket error that says why.
    throw describeRedisError(lastError && /closed/i.test((e as Error).message) ? lastError : e, url);
  } finally {
    clearTimeout(timer);
    // disconnect() on a client that already ended arms a ~2 s timer that delays the exit.
    if (client.status !== 'end') client.disconnect();
  }
}

/**
 * A long-lived connection for BullMQ: retries forever with a capped backoff (a restarted Redis is
 * picked up again), and never fails a command while disconnected (BullMQ's requirement).
 */
export function openRedis(url: string, extra: RedisOptions = {}): IORedis {
  const client = new IORedis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 2000),
    ...extra,
  });
  return client;
}

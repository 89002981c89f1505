import { DEFAULT_RATE_LIMIT_POLICY, ENDPOINT_CLASSES, type EndpointClass, type RateLimitPolicy, type RateLimitRule } from '@blockyard/core';

export const RATE_LIMIT_STORES = ['memory', 'redis'] as const;
/** Where rate limit counters live: this process's memory, or Redis (shared by every API process). */
export type RateLimitStore = (typeof RATE_LIMIT_STORES)[number];

export interface RateLimitConfig {
  /** BLOCKYARD_RATE_LIMITS: off (or false, 0) disables every limit and X-RateLimit header. Default on. */
  enabled: boolean;
  /** BLOCKYARD_RATE_LIMIT_STORE: default redis with BLOCKYARD_QUEUE=bullmq (several processes), else memory. */
  store: RateLimitStore;
  /** The guide's defaults, each class overridden by BLOCKYARD_RATE_LIMIT_<CLASS>. */
  policy: RateLimitPolicy;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};
const MAX_WINDOW_MS = 7 * 86_400_000;
const MAX_LIMIT = 1_000_000_000;

/** The variable overriding an endpoint class's rules: BLOCKYARD_RATE_LIMIT_OAUTH, _EXECUTE, _READ, _WRITE. */
export function rateLimitVariable(cls: EndpointClass): string {
  return `BLOCKYARD_RATE_LIMIT_${cls.toUpperCase()}`;
}

/**
 * Rules as written in a variable: `10/min,100/h` (a limit per window), a window being an
 * optional count and a unit (ms, s, min, h, d: `5/30s`, `100/1500ms`), one rule per window
 * length; `off` for none (the class is not limited). The rules, or what is wrong.
 */
export function parseRateLimitRules(raw: string): RateLimitRule[] | { problem: string } {
  const text = raw.trim().toLowerCase();
  if (text === 'off' || text === 'none') return [];
  const rules: RateLimitRule[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^(\d+)\s*\/\s*(\d+)?\s*([a-z]+)$/.exec(part);
    const unit = m ? UNIT_MS[m[3]!] : undefined;
    if (!m || unit === undefined) return { problem: `${JSON.stringify(part)} is not <limit>/<window> (10/min, 100/h, 5/30s, off)` };
    const limit = Number(m[1]);
    const windowMs = Number(m[2] ?? 1) * unit;
    if (limit < 1 || limit > MAX_LIMIT) return { problem: `${JSON.stringify(part)}: the limit must be from 1 to ${MAX_LIMIT}` };
    if (windowMs < 1 || windowMs > MAX_WINDOW_MS) return { problem: `${JSON.stringify(part)}: the window must be from 1 ms to 7 days` };
    if (rules.some((r) => r.windowMs === windowMs)) return { problem: `${JSON.stringify(part)}: two rules for the same window` };
    rules.push({ limit, windowMs });
  }
  return rules;
}

/**
 * Reads BLOCKYARD_RATE_LIMITS, BLOCKYARD_RATE_LIMIT_STORE and BLOCKYARD_RATE_LIMIT_<CLASS>,
 * adding each problem to `problems`. `sharedQueue`: processes share work (BLOCKYARD_QUEUE=bullmq),
 * so by default they share limits in Redis too.
 */
export function readRateLimitConfig(env: NodeJS.ProcessEnv, sharedQueue: boolean, problems: string[]): RateLimitConfig {
  const switchRaw = env.BLOCKYARD_RATE_LIMITS?.trim().toLowerCase() || 'on';
  const enabled = ['on', 'true', '1'].includes(switchRaw);
  if (!enabled && !['off', 'false', '0'].includes(switchRaw)) problems.push(`BLOCKYARD_RATE_LIMITS must be on or off (got ${JSON.stringify(env.BLOCKYARD_RATE_LIMITS)})`);

  const store = (env.BLOCKYARD_RATE_LIMIT_STORE?.trim().toLowerCase() || (sharedQueue ? 'redis' : 'memory')) as RateLimitStore;
  if (!RATE_LIMIT_STORES.includes(store)) problems.push(`BLOCKYARD_RATE_LIMIT_STORE must be one of ${RATE_LIMIT_STORES.join(', ')} (got ${JSON.stringify(env.BLOCKYARD_RATE_LIMIT_STORE)})`);

  const policy = { ...DEFAULT_RATE_LIMIT_POLICY } as Record<EndpointClass, readonly RateLimitRule[]>;
  for (const cls of ENDPOINT_CLASSES) {
    const name = rateLimitVariable(cls);
    const raw = env[name]?.trim();
    if (!raw) continue;
    const parsed = parseRateLimitRules(raw);
    if ('problem' in parsed) problems.push(`${name}: ${parsed.problem}`);
    else policy[cls] = parsed;
  }
  return { enabled, store, policy };
}

/** The policy in the variables' own notation, for log lines: `oauth 30/min; execute 10/min,100/h; ...`. */
export function describeRateLimitPolicy(policy: RateLimitPolicy): string {
  const window = (ms: number) => {
    for (const [unit, size] of [
      ['d', 86_400_000],
      ['h', 3_600_000],
      ['min', 60_000],
      ['s', 1000],
    ] as const) {
      if (ms % size === 0) return ms === size ? unit : `${ms / size}${unit}`;
    }
    return `${ms}ms`;
  };
  return ENDPOINT_CLASSES.map((cls) => `${cls} ${policy[cls].length ? policy[cls].map((r) => `${r.limit}/${window(r.windowMs)}`).join(',') : 'off'}`).join('; ');
}

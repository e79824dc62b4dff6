import type { Redis } from 'ioredis';

export const HOUR = 3_600_000;

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const ms = (x: number) => `${x.toFixed(1)} ms`;

/** CPU seconds Redis has used so far (system + user), from INFO: the difference over a step is that step's cost. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
}

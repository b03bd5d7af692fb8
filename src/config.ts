// Settings from the environment, validated once. Everything has a working default so that
// `npm start` on a fresh clone runs the demo workspace with nothing configured.
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  SETTLE_DATA_DIR: z.string().default(path.resolve(process.cwd(), '.settle')),
  SETTLE_SECRET_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'SETTLE_SECRET_KEY must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`')
    .optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4400),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: z.string().url().optional(),
  SETTLE_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  SETTLE_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  SETTLE_DEMO_INVOICE_EVERY_MS: z.coerce.number().int().min(0).default(8000),
  SETTLE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SETTLE_SMTP_URL: z.string().optional(),
  SETTLE_MAIL_FROM: z.string().default('billing@settle.localhost'),
  /** Test hook: name of a crash point at which the process kills itself with SIGKILL (see engine/crash-points.ts). */
  SETTLE_CRASH_AT: z.string().optional(),
});

export type Config = z.infer<typeof schema> & { readonly publicUrl: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return { ...c, publicUrl: c.PUBLIC_URL ?? `http://${c.HOST}:${c.PORT}` };
}

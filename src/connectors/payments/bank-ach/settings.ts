// The bank ACH connection's settings (non-secret config) and credentials, validated with zod at the edge
// (`settle connect bank_ach bank-ach`, the registry). Originator details are what the bank assigned in the
// ACH origination agreement; they appear in every file and must stay identical on reinitiations (§2.5).
import { z } from 'zod';
import { isValidRoutingNumber } from './nacha/index.ts';
import { BANK_ACH, DEFAULT_CUTOFFS } from './catalogue.ts';
import { checkCutoffs, CutoffConfigError } from './windows.ts';

const routing = z.string().refine(isValidRoutingNumber, 'must be a 9-digit ABA routing number with a valid check digit');
const nachaText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x20-\x7E]+$/, 'printable ASCII only (NACHA files are ASCII)');

const cutoff = z.object({ id: z.string().regex(/^[a-z0-9-]{1,20}$/), at: z.string(), sameDay: z.boolean() });

export const bankAchConfigSchema = z
  .object({
    /** The MSP's bank (ODFI): its routing number; the first 8 digits start every trace number. */
    odfiRoutingNumber: routing,
    /** File header "immediate destination": usually the ODFI's routing number (default). */
    immediateDestination: routing.optional(),
    immediateDestinationName: nachaText(23).optional(),
    /** File header "immediate origin": a routing number or the 10-character ID the bank assigned. */
    immediateOrigin: z.string().regex(/^(\d{9}|[\x20-\x7E]{10})$/, 'a 9-digit routing number or the 10-character ID the bank assigned'),
    immediateOriginName: nachaText(23).optional(),
    /** Batch header Company Name / Company Identification (§2.5: identical on every reinitiation). */
    companyName: nachaText(16),
    companyId: nachaText(10),
    sftp: z.object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(22),
      username: z.string().min(1),
      /** The bank's SSH host key fingerprint, "SHA256:<base64>" as `ssh-keygen -lf` prints it: pinned, never trusted on first use. */
      hostKeySha256: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'the host key fingerprint as SHA256:<43 base64 characters>'),
      uploadDir: z.string().startsWith('/').default(BANK_ACH.uploadDir),
      downloadDir: z.string().startsWith('/').default(BANK_ACH.downloadDir),
      timeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
    }),
    fileNamePrefix: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,20}$/)
      .default('SETTLE'),
    ackSuffix: z
      .string()
      .regex(/^\.[A-Za-z0-9.]{1,10}$/)
      .default(BANK_ACH.ackSuffix),
    timeZone: z.string().default(BANK_ACH.timeZone),
    /** The bank's cut-offs (bank-local time). Defaults: catalogue.ts DEFAULT_CUTOFFS, replace with the bank's. */
    cutoffs: z.array(cutoff).default([...DEFAULT_CUTOFFS]),
    /** Whether the bank agreement allows Same Day ACH. */
    sameDayEnabled: z.boolean().default(false),
    /** 'cutoffs': the scheduler builds and sends a file before each cut-off; 'manual': only when staff ask. */
    schedule: z.enum(['cutoffs', 'manual']).default('cutoffs'),
  })
  .superRefine((c, ctx) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: c.timeZone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['timeZone'], message: `"${c.timeZone}" is not an IANA time zone` });
    }
    try {
      checkCutoffs(c.cutoffs, '2026-01-02');
    } catch (e) {
      if (!(e instanceof CutoffConfigError)) throw e;
      ctx.addIssue({ code: 'custom', path: ['cutoffs'], message: e.message });
    }
  });

export const bankAchSecretsSchema = z
  .object({
    password: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional(),
    passphrase: z.string().min(1).optional(),
  })
  .refine((s) => s.password !== undefined || s.privateKey !== undefined, 'give the SFTP password or a private key');

export type BankAchConfig = z.infer<typeof bankAchConfigSchema>;
export type BankAchSecrets = z.infer<typeof bankAchSecretsSchema>;

/** Originator details as they go into files. */
export interface Originator {
  readonly odfi: string; // 8 digits
  readonly immediateDestination: string;
  readonly immediateDestinationName: string | undefined;
  readonly immediateOrigin: string;
  readonly immediateOriginName: string | undefined;
  readonly companyName: string;
  readonly companyId: string;
}

export function originatorOf(c: BankAchConfig): Originator {
  return {
    odfi: c.odfiRoutingNumber.slice(0, 8),
    immediateDestination: c.immediateDestination ?? c.odfiRoutingNumber,
    immediateDestinationName: c.immediateDestinationName,
    immediateOrigin: c.immediateOrigin,
    immediateOriginName: c.immediateOriginName ?? c.companyName,
    companyName: c.companyName,
    companyId: c.companyId,
  };
}

// Email delivery through the MSP's own SMTP relay (SETTLE_SMTP_URL, e.g. smtp://user:pass@mail.example.com:587).
// Without one, emails are kept in the outbox marked `skipped`, visible in the dashboard, never silently lost.
//
// One pooled transport per process: a handful of SMTP connections opened once and reused for every message
// (nodemailer's pool). Opening a connection (TCP, greeting, EHLO, STARTTLS, AUTH) per message held a run of
// 5,000 reminders to ~11 a second; a batch sent over the pool pipelines them (engine/collections-assist/send.ts).
import nodemailer, { type Transporter } from 'nodemailer';

export interface EmailAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Uint8Array;
}

export interface OutgoingEmail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string | null;
  /** The workspace's reply-to address (Settings → Branding), when it set one. */
  readonly replyTo?: string | null;
  /** Stable across retries, so a receiving server or a person can spot a duplicate. */
  readonly messageId: string;
  readonly attachments?: readonly EmailAttachment[];
}

export interface Mailer {
  readonly configured: boolean;
  /** How many messages may usefully be in flight at once (the pool's connections). */
  readonly connections: number;
  send(email: OutgoingEmail): Promise<void>;
  /** Closes the pool's idle connections (process shutdown). */
  close(): void;
}

/** Connections kept open to the relay; most relays allow 5–10 per client (SETTLE_SMTP_CONNECTIONS). */
export const DEFAULT_SMTP_CONNECTIONS = 5;

export function createMailer(smtpUrl: string | undefined, opts: { timeoutMs?: number; connections?: number } = {}): Mailer {
  if (!smtpUrl) {
    return {
      configured: false,
      connections: 1,
      send: async () => {
        throw new Error('no SMTP relay configured: set SETTLE_SMTP_URL (smtp://user:password@host:port)');
      },
      close: () => {},
    };
  }
  const connections = opts.connections ?? DEFAULT_SMTP_CONNECTIONS;
  const transport: Transporter = nodemailer.createTransport(smtpUrl, {
    pool: true,
    maxConnections: connections,
    // A connection is renewed after this many messages (some relays cap a session), not after each one.
    maxMessages: 1000,
    connectionTimeout: opts.timeoutMs ?? 15_000,
    greetingTimeout: opts.timeoutMs ?? 15_000,
    socketTimeout: opts.timeoutMs ?? 30_000,
  } as never);
  return {
    configured: true,
    connections,
    send: async (email) => {
      await transport.sendMail({
        from: email.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        ...(email.html ? { html: email.html } : {}),
        ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        messageId: email.messageId,
        ...(email.attachments?.length
          ? { attachments: email.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content) })) }
          : {}),
      });
    },
    close: () => transport.close(),
  };
}

// Email delivery through the MSP's own SMTP relay (SETTLE_SMTP_URL, e.g. smtp://user:pass@mail.example.com:587).
// Without one, emails are kept in the outbox marked `skipped`, visible in the dashboard, never silently lost.
import nodemailer, { type Transporter } from 'nodemailer';

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
}

export interface Mailer {
  readonly configured: boolean;
  send(email: OutgoingEmail): Promise<void>;
}

export function createMailer(smtpUrl: string | undefined, opts: { timeoutMs?: number } = {}): Mailer {
  if (!smtpUrl) {
    return {
      configured: false,
      send: async () => {
        throw new Error('no SMTP relay configured: set SETTLE_SMTP_URL (smtp://user:password@host:port)');
      },
    };
  }
  const transport: Transporter = nodemailer.createTransport(smtpUrl, {
    connectionTimeout: opts.timeoutMs ?? 15_000,
    greetingTimeout: opts.timeoutMs ?? 15_000,
    socketTimeout: opts.timeoutMs ?? 30_000,
  } as never);
  return {
    configured: true,
    send: async (email) => {
      await transport.sendMail({
        from: email.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        ...(email.html ? { html: email.html } : {}),
        ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        messageId: email.messageId,
      });
    },
  };
}

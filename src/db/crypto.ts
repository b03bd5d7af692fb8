// Connection credentials are encrypted at rest with AES-256-GCM. The key comes from SETTLE_SECRET_KEY, or
// for the embedded default is generated once into the data folder (mode 0600). The tenant and connection
// role are bound in as additional authenticated data, so a ciphertext copied to another tenant's row does
// not decrypt.
//
// Rotation (`settle keys rotate`, cli/keys.ts) re-seals every sealed value under a new key in one transaction.
// A box may hold earlier keys too, used only to open: after an interrupted rotation (the new key written to
// secret.key.next, the database maybe re-sealed, the files not yet swapped) every value still opens.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';

export class SecretBox {
  private constructor(
    private readonly key: Buffer,
    /** Keys that only open (an interrupted rotation's other key); seal always uses `key`. */
    private readonly openers: readonly Buffer[] = [],
  ) {}

  static fromHex(hex: string, alsoOpensWith: readonly string[] = []): SecretBox {
    const parse = (h: string): Buffer => {
      const key = Buffer.from(h, 'hex');
      if (key.length !== 32 || !/^[0-9a-f]{64}$/i.test(h)) throw new Error('SETTLE_SECRET_KEY must be 32 bytes (64 hex characters)');
      return key;
    };
    return new SecretBox(parse(hex), alsoOpensWith.map(parse));
  }

  /** The configured key, or one generated into `<dataDir>/secret.key` on first use. */
  static load(configuredHex: string | undefined, dataDir: string): SecretBox {
    const next = SecretBox.pendingKeyHex(dataDir);
    if (configuredHex) return SecretBox.fromHex(configuredHex, next ? [next] : []);
    const file = SecretBox.keyFile(dataDir);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    }
    return SecretBox.fromHex(fs.readFileSync(file, 'utf8').trim(), next ? [next] : []);
  }

  static keyFile(dataDir: string): string {
    return path.join(dataDir, 'secret.key');
  }

  /** The key of a rotation that has not finished (written before the database is re-sealed), if any. */
  static pendingKeyHex(dataDir: string): string | null {
    const file = path.join(dataDir, 'secret.key.next');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : null;
  }

  /** A short, non-secret name for the sealing key (logs and `settle keys rotate` output). */
  fingerprint(): string {
    return crypto.createHash('sha256').update(this.key).digest('hex').slice(0, 12);
  }

  /** A purpose-bound key derived from the instance key (HMAC), for signing things that are not secrets at rest. */
  derive(purpose: string): string {
    return crypto.createHmac('sha256', this.key).update(`settle:${purpose}`).digest('hex');
  }

  seal(plaintext: unknown, context: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  open<T>(sealed: string, context: string): T {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('sealed secret has an unknown format');
    let failure: unknown;
    // GCM refuses a wrong key (the tag does not match), so trying each key in turn is safe.
    for (const key of [this.key, ...this.openers]) {
      try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
        return JSON.parse(text) as T;
      } catch (e) {
        failure = e;
      }
    }
    throw failure instanceof Error ? failure : new Error('sealed secret does not open');
  }
}

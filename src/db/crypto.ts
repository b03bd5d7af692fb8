// Connection credentials are encrypted at rest with AES-256-GCM. The key comes from SETTLE_SECRET_KEY, or
// for the embedded default is generated once into the data folder (mode 0600). The tenant and connection
// role are bound in as additional authenticated data, so a ciphertext copied to another tenant's row does
// not decrypt.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromHex(hex: string): SecretBox {
    const key = Buffer.from(hex, 'hex');
    if (key.length !== 32) throw new Error('SETTLE_SECRET_KEY must be 32 bytes (64 hex characters)');
    return new SecretBox(key);
  }

  /** The configured key, or one generated into `<dataDir>/secret.key` on first use. */
  static load(configuredHex: string | undefined, dataDir: string): SecretBox {
    if (configuredHex) return SecretBox.fromHex(configuredHex);
    const file = path.join(dataDir, 'secret.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    }
    return SecretBox.fromHex(fs.readFileSync(file, 'utf8').trim());
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
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as T;
  }
}

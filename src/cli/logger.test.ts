import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => out };
}

describe('logs carry no secrets, card or account numbers', () => {
  it('redacts credentials, card and bank fields wherever they appear one level down', () => {
    const c = capture();
    const log = createLogger('info', c.stream);
    log.info(
      {
        connection: {
          secretKey: 'sk_live_abc123',
          privateKey: 'cw-private',
          accessToken: 'qbo-access',
          refreshToken: 'qbo-refresh',
          clientSecret: 'intuit-secret',
        },
        method: { card: { number: '4242424242424242' }, number: '4242424242424242', cvc: '123' },
        bank: { accountNumber: '000123456789', routingNumber: '110000000' },
        req: { headers: { authorization: 'Bearer stl_secretkey', cookie: 'settle_session=abc' } },
      },
      'processing',
    );
    const text = c.text();
    for (const secret of [
      'sk_live_abc123',
      'cw-private',
      'qbo-access',
      'qbo-refresh',
      'intuit-secret',
      '4242424242424242',
      '000123456789',
      '110000000',
      'stl_secretkey',
      'settle_session=abc',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
    expect(text).toContain('processing');
  });
});

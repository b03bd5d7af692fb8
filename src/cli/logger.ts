// pino, with every field that could carry a secret, a card or an account number redacted at the source.
import pino, { type Logger } from 'pino';

export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.secretKey',
  '*.privateKey',
  '*.publicKey',
  '*.clientSecret',
  '*.password',
  '*.accessToken',
  '*.refreshToken',
  '*.webhookSecret',
  '*.secrets',
  '*.card',
  '*.number',
  '*.cvc',
  '*.accountNumber',
  '*.account_number',
  '*.routingNumber',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'settle' } }, destination);
}

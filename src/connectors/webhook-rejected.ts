/** An inbound push that is not genuine or not well-formed. Nothing is stored; the vendor gets 4xx. */
export class WebhookRejected extends Error {
  override readonly name = 'WebhookRejected';
  constructor(
    readonly reason: 'bad_signature' | 'stale_timestamp' | 'malformed' | 'unknown_tenant',
    message: string,
  ) {
    super(message);
  }
}

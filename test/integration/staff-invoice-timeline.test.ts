// The invoice page's timeline (db/queries/invoice-timeline.ts) on real PostgreSQL: every kind of event Settle
// received or sent for one invoice — versions and change notices from the PSA, charge attempts and events
// from the processor (a decline, then a success), postings to the PSA and the books (one failed, one
// posted), e-mails and staff actions — in time order with the vendor's ids; nothing of another invoice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { invoicePage } from '../../src/db/queries/invoice-timeline.ts';
import { vendorUrl } from '../../src/http/staff/vendor-links.ts';

let t: TestDatabase;
let tenant: string;
let invoiceId = '';
let otherInvoiceId = '';
const at = (min: number): Date => new Date(Date.UTC(2026, 1, 1, 9, min));
const inTx = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(t.db, tenant, fn);

beforeAll(async () => {
  t = await createTestDatabase();
  tenant = (await t.db.insertInto('tenants').values({ slug: 'tl', name: 'Timeline MSP' }).returning('id').executeTakeFirstOrThrow()).id;
  await inTx(async (tx) => {
    await tx
      .insertInto('connections')
      .values([
        { tenant_id: tenant, role: 'psa', vendor: 'connectwise', config: {}, secrets_ciphertext: 'x' },
        { tenant_id: tenant, role: 'payments', vendor: 'stripe', config: {}, secrets_ciphertext: 'x' },
        { tenant_id: tenant, role: 'accounting', vendor: 'quickbooks-online', config: {}, secrets_ciphertext: 'x' },
      ])
      .execute();
    const client = await tx
      .insertInto('clients')
      .values({ tenant_id: tenant, name: 'Acme Dental', identifier: 'ACME', billing_email: 'ap@acme.test' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const mk = async (number: string, remote: string) => {
      const inv = await tx
        .insertInto('invoices')
        .values({
          tenant_id: tenant,
          client_id: client.id,
          number,
          type: 'Standard',
          currency: 'USD',
          total_minor: 12000n,
          psa_balance_minor: 12000n,
          status: 'open',
          psa_status: 'Sent',
          issued_on: '2026-01-15',
          due_on: '2026-02-14',
          current_version: 2,
          psa_updated_at: at(0),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('external_refs')
        .values({ tenant_id: tenant, entity: 'invoice', entity_id: inv.id, system: 'connectwise', remote_id: remote })
        .execute();
      return inv.id;
    };
    invoiceId = await mk('INV-1', '501');
    otherInvoiceId = await mk('INV-2', '502');
    await tx
      .insertInto('invoice_versions')
      .values([
        { tenant_id: tenant, invoice_id: invoiceId, version: 1, content_hash: 'a', total_minor: 10000n, snapshot: '{}', received_at: at(1) },
        { tenant_id: tenant, invoice_id: invoiceId, version: 2, content_hash: 'b', total_minor: 12000n, snapshot: '{}', received_at: at(3) },
        { tenant_id: tenant, invoice_id: otherInvoiceId, version: 1, content_hash: 'c', total_minor: 12000n, snapshot: '{}', received_at: at(2) },
      ])
      .execute();
    await tx
      .insertInto('invoice_lines')
      .values({
        tenant_id: tenant,
        invoice_id: invoiceId,
        version: 2,
        line_no: 1,
        external_id: 'l1',
        kind: 'agreement',
        description: 'Managed seats',
        quantity: '12',
        amount_minor: 12000n,
      })
      .execute();
    // The PSA's change notice for this invoice (and one for the other invoice, which must not show).
    await tx
      .insertInto('inbox_events')
      .values([
        {
          tenant_id: tenant,
          source: 'connectwise',
          vendor_event_id: 'cw-1',
          event_type: 'invoice.updated',
          payload: JSON.stringify({ eventId: 'cw-1', entity: 'invoice', externalId: '501', action: 'updated' }),
          received_at: at(2),
          processed_at: at(3),
        },
        {
          tenant_id: tenant,
          source: 'connectwise',
          vendor_event_id: 'cw-2',
          event_type: 'invoice.updated',
          payload: JSON.stringify({ eventId: 'cw-2', entity: 'invoice', externalId: '502', action: 'updated' }),
          received_at: at(2),
        },
      ])
      .execute();
    // A declined charge (planned for this invoice, never allocated), then a successful one.
    const planned = JSON.stringify([{ invoiceId, amountMinor: '12000' }]);
    const declined = await tx
      .insertInto('payments')
      .values({
        tenant_id: tenant,
        client_id: client.id,
        currency: 'USD',
        amount_minor: 12000n,
        planned_allocations: planned,
        state: 'failed',
        source: 'autopay',
        processor: 'stripe',
        processor_payment_id: 'pi_declined',
        created_at: at(10),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const paid = await tx
      .insertInto('payments')
      .values({
        tenant_id: tenant,
        client_id: client.id,
        currency: 'USD',
        amount_minor: 12000n,
        planned_allocations: planned,
        state: 'succeeded',
        source: 'portal',
        processor: 'stripe',
        processor_payment_id: 'pi_paid',
        method_kind: 'card',
        method_brand: 'visa',
        method_last4: '4242',
        created_at: at(20),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('payment_attempts')
      .values([
        {
          tenant_id: tenant,
          payment_id: declined.id,
          attempt_no: 1,
          idempotency_key: 'k1',
          outcome: 'declined',
          processor_payment_id: 'pi_declined',
          decline_code: 'insufficient_funds',
          message: 'Your card has insufficient funds.',
          created_at: at(11),
        },
        {
          tenant_id: tenant,
          payment_id: paid.id,
          attempt_no: 1,
          idempotency_key: 'k2',
          outcome: 'succeeded',
          processor_payment_id: 'pi_paid',
          created_at: at(21),
        },
      ])
      .execute();
    await tx
      .insertInto('payment_events')
      .values({
        tenant_id: tenant,
        payment_id: paid.id,
        from_state: 'processing',
        to_state: 'succeeded',
        event: 'processor_confirmed',
        detail: '{}',
        created_at: at(22),
      })
      .execute();
    await tx
      .insertInto('allocations')
      .values({ tenant_id: tenant, payment_id: paid.id, invoice_id: invoiceId, amount_minor: 12000n, created_at: at(22) })
      .execute();
    await tx
      .insertInto('inbox_events')
      .values({
        tenant_id: tenant,
        source: 'stripe',
        vendor_event_id: 'evt_1',
        event_type: 'payment.succeeded',
        payload: JSON.stringify({ eventId: 'evt_1', type: 'payment.succeeded', processorPaymentId: 'pi_paid' }),
        received_at: at(23),
        processed_at: at(23),
      })
      .execute();
    await tx
      .insertInto('postings')
      .values([
        {
          tenant_id: tenant,
          target: 'psa',
          vendor: 'connectwise',
          kind: 'payment',
          payment_id: paid.id,
          invoice_id: invoiceId,
          amount_minor: 12000n,
          currency: 'USD',
          idempotency_key: 'p1',
          status: 'posted',
          remote_id: '9001',
          created_at: at(24),
          posted_at: at(25),
        },
        {
          tenant_id: tenant,
          target: 'accounting',
          vendor: 'quickbooks-online',
          kind: 'payment',
          payment_id: paid.id,
          invoice_id: invoiceId,
          amount_minor: 12000n,
          currency: 'USD',
          idempotency_key: 'p2',
          status: 'failed',
          attempts: 3,
          last_error: 'QuickBooks: the account is inactive',
          created_at: at(26),
        },
      ])
      .execute();
    await tx
      .insertInto('notifications')
      .values({
        tenant_id: tenant,
        kind: 'payment_receipt',
        client_id: client.id,
        to_email: 'ap@acme.test',
        subject: 'Receipt for INV-1',
        body_text: 'thanks',
        idempotency_key: `receipt:payment:${paid.id}`,
        status: 'sent',
        created_at: at(27),
        sent_at: at(28),
      })
      .execute();
    await tx
      .insertInto('notifications')
      .values({
        tenant_id: tenant,
        kind: 'portal_link',
        client_id: client.id,
        to_email: 'ap@acme.test',
        subject: 'Your invoices',
        body_text: 'link',
        idempotency_key: 'portal-link:x:y',
        status: 'sent',
      })
      .execute();
    await tx
      .insertInto('audit_log')
      .values({
        tenant_id: tenant,
        actor: 'user:someone',
        action: 'payment.created',
        subject_type: 'payment',
        subject_id: paid.id,
        detail: '{}',
        created_at: at(20),
      })
      .execute();
  });
});
afterAll(async () => t?.drop());

describe('invoice page timeline', () => {
  it('lists what Settle received and sent for the invoice, across PSA, processor and books, in time order', async () => {
    const d = (await inTx((tx) => invoicePage(tx, invoiceId)))!;
    expect(d.invoice.number).toBe('INV-1');
    expect(d.remoteIds).toEqual({ connectwise: '501' });
    expect(d.lines.map((l) => l.description)).toEqual(['Managed seats']);
    expect(d.versions.map((v) => [v.version, v.total_minor, v.line_count])).toEqual([
      [1, 10000n, 0],
      [2, 12000n, 1],
    ]);
    expect(d.payments.map((p) => [p.processor_payment_id, p.state, p.allocated_minor])).toEqual([
      ['pi_declined', 'failed', 0n],
      ['pi_paid', 'succeeded', 12000n],
    ]);
    expect(d.postingState).toEqual({ psa: 'posted', books: 'failed' });
    const rows = d.timeline.map((e) => [e.system, e.direction, e.title, e.outcome, e.remoteId]);
    expect(rows).toEqual([
      ['psa', 'received', 'Invoice INV-1 received (version 1)', 'ok', '501'],
      ['psa', 'received', 'PSA notice: invoice updated', 'ok', '501'],
      ['psa', 'received', 'Invoice changed in the PSA: version 2', 'ok', '501'],
      ['processor', 'sent', 'Charge sent (attempt 1)', 'bad', 'pi_declined'],
      ['settle', 'recorded', 'Payment created (by staff)', null, null],
      ['processor', 'sent', 'Charge sent (attempt 1)', 'ok', 'pi_paid'],
      ['settle', 'recorded', 'Payment processing → succeeded', 'ok', 'pi_paid'],
      ['processor', 'received', 'Processor event: payment.succeeded', 'ok', 'pi_paid'],
      ['psa', 'sent', 'Payment posted to the PSA', 'ok', '9001'],
      ['books', 'sent', 'Payment posted to the books', 'bad', null],
      ['email', 'sent', 'E-mail to ap@acme.test: Receipt for INV-1', 'ok', null],
    ]);
    const declined = d.timeline.find((e) => e.remoteId === 'pi_declined')!;
    expect(declined.outcomeText).toBe('declined: insufficient_funds: Your card has insufficient funds.');
    const books = d.timeline.find((e) => e.system === 'books')!;
    expect(books.outcomeText).toBe('failed after 3 attempts: QuickBooks: the account is inactive');
    expect(books.amountMinor).toBe(12000n);
  });

  it('the other invoice has only its own events', async () => {
    const d = (await inTx((tx) => invoicePage(tx, otherInvoiceId)))!;
    expect(d.timeline.map((e) => e.title)).toEqual(['Invoice INV-2 received (version 1)', 'PSA notice: invoice updated']);
    expect(d.timeline[1]!.outcome).toBe('pending');
    expect(d.payments).toEqual([]);
  });

  it('an unknown invoice is null', async () => {
    expect(await inTx((tx) => invoicePage(tx, '00000000-0000-4000-8000-000000000000'))).toBeNull();
  });

  it("links a remote id to the vendor's own screen when connected to the real vendor, not to a simulator", () => {
    const stripeLive = { vendor: 'stripe', config: { publishableKey: 'pk_live_abc' } };
    const stripeTest = { vendor: 'stripe', config: { baseUrl: 'https://api.stripe.com', publishableKey: 'pk_test_abc' } };
    expect(vendorUrl(stripeLive, 'payment', 'pi_123')).toBe('https://dashboard.stripe.com/payments/pi_123');
    expect(vendorUrl(stripeTest, 'payment', 'pi_123')).toBe('https://dashboard.stripe.com/test/payments/pi_123');
    expect(vendorUrl({ vendor: 'stripe', config: { baseUrl: 'http://127.0.0.1:4010', publishableKey: 'pk_test_x' } }, 'payment', 'pi_1')).toBeNull();
    const qbo = { vendor: 'quickbooks-online', config: { baseUrl: 'https://quickbooks.api.intuit.com' } };
    expect(vendorUrl(qbo, 'payment', '145')).toBe('https://app.qbo.intuit.com/app/recvpayment?txnId=145');
    expect(vendorUrl({ vendor: 'quickbooks-online', config: { baseUrl: 'https://sandbox-quickbooks.api.intuit.com' } }, 'deposit', '9')).toBe(
      'https://app.sandbox.qbo.intuit.com/app/deposit?txnId=9',
    );
    const cw = { vendor: 'connectwise', config: { baseUrl: 'https://na.myconnectwise.net/v4_6_release/apis/3.0', companyId: 'acme' } };
    expect(vendorUrl(cw, 'invoice', '501')).toBe(
      'https://na.myconnectwise.net/v4_6_release/services/system_io/router/openrecord.rails?locale=en_US&companyName=acme&recordType=InvoiceFV&recid=501',
    );
    expect(vendorUrl(cw, 'payment', '501')).toBeNull();
  });
});

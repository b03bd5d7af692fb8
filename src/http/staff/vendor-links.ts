// Links from a remote id to the vendor's own screen for that record, so a person can check what Settle
// says against what ConnectWise, Stripe or QuickBooks shows. Built from the connection's non-secret
// settings only. A connection to a simulator (a loopback address) has no screen to link to: null.
//
// URL shapes (vendor facts unless marked):
// - Stripe dashboard: https://dashboard.stripe.com[/test]/payments/<PaymentIntent id>, /payouts/<id>;
//   test mode is the connection's publishable key (pk_test_…).
// - QuickBooks Online: https://app.qbo.intuit.com/app/<form>?txnId=<Id> (app.sandbox.qbo.intuit.com for the
//   sandbox API host); forms recvpayment, deposit, refundreceipt, invoice.
// - ConnectWise PSA: https://<site>/v4_6_release/services/system_io/router/openrecord.rails?…&recordType=
//   <type>&recid=<id>. CompanyFV is documented; InvoiceFV for an invoice is an assumption (not in the list
//   of record types we found), so it may open the Invoice screen or ConnectWise's record-not-found page.

export type RemoteKind = 'invoice' | 'payment' | 'refund' | 'payment_reversal' | 'deposit' | 'bank_withdrawal' | 'payout' | 'client';

export interface VendorConnection {
  readonly vendor: string;
  readonly config: Record<string, unknown>;
}

function hostOf(url: unknown): URL | null {
  if (typeof url !== 'string') return null;
  try {
    const u = new URL(url);
    if (/^(localhost|127\.|\[::1\]|0\.0\.0\.0)/.test(u.hostname)) return null;
    return u;
  } catch {
    return null;
  }
}

export function vendorUrl(conn: VendorConnection | undefined, kind: RemoteKind, remoteId: string | null): string | null {
  if (!conn || !remoteId) return null;
  const id = encodeURIComponent(remoteId);
  const c = conn.config;
  switch (conn.vendor) {
    case 'stripe': {
      const api = hostOf(c.baseUrl ?? 'https://api.stripe.com');
      if (!api || api.hostname !== 'api.stripe.com') return null;
      const test = typeof c.publishableKey === 'string' && c.publishableKey.startsWith('pk_test_') ? 'test/' : '';
      if (kind === 'payment' && remoteId.startsWith('pi_')) return `https://dashboard.stripe.com/${test}payments/${id}`;
      if (kind === 'payout' && remoteId.startsWith('po_')) return `https://dashboard.stripe.com/${test}payouts/${id}`;
      if (kind === 'client' && remoteId.startsWith('cus_')) return `https://dashboard.stripe.com/${test}customers/${id}`;
      return null;
    }
    case 'quickbooks-online': {
      const api = hostOf(c.baseUrl ?? 'https://quickbooks.api.intuit.com');
      if (!api || !api.hostname.endsWith('.intuit.com')) return null;
      const app = api.hostname.startsWith('sandbox') ? 'https://app.sandbox.qbo.intuit.com' : 'https://app.qbo.intuit.com';
      const form: Partial<Record<RemoteKind, string>> = {
        payment: 'recvpayment',
        deposit: 'deposit',
        refund: 'refundreceipt',
        invoice: 'invoice',
        bank_withdrawal: 'expense',
      };
      return form[kind] ? `${app}/app/${form[kind]}?txnId=${id}` : null;
    }
    case 'connectwise': {
      const api = hostOf(c.baseUrl);
      if (!api || api.protocol !== 'https:') return null;
      const recordType = kind === 'invoice' ? 'InvoiceFV' : kind === 'client' ? 'CompanyFV' : null;
      if (!recordType) return null;
      const company = typeof c.companyId === 'string' ? `&companyName=${encodeURIComponent(c.companyId)}` : '';
      return `https://${api.host}/v4_6_release/services/system_io/router/openrecord.rails?locale=en_US${company}&recordType=${recordType}&recid=${id}`;
    }
    default:
      return null;
  }
}

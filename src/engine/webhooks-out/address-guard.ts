// The SSRF guard for outbound webhooks. A subscription's URL must not reach Settle's own network: an address
// that is private (RFC 1918, unique-local), loopback, link-local (with the cloud metadata service at
// 169.254.169.254), carrier-grade NAT, multicast or unspecified is refused — when the subscription is saved
// AND at every delivery (DNS may have changed since), and the delivery connects to the very address that was
// checked (no second look-up a DNS rebinding could answer differently). An operator running receivers on the
// same machine or LAN allows them with SETTLE_WEBHOOKS_ALLOW_PRIVATE=1 (ctx.webhooksAllowPrivate).
import dns from 'node:dns';
import net from 'node:net';
import { UseCaseError } from '../context.ts';

const blocked = new net.BlockList();
for (const [a, p] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(a, p, 'ipv4');
for (const [a, p] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(a, p, 'ipv6');

/** An IPv4 address carried inside an IPv6 one (::ffff:a.b.c.d, NAT64 64:ff9b::/96), checked as IPv4. */
function embeddedV4(ip: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return null;
  const n = (parseInt(hex[1]!, 16) << 16) | parseInt(hex[2]!, 16);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Why this address may not receive webhooks, or null when it is a public address. */
export function refusedAddress(ip: string): string | null {
  const v4 = net.isIPv4(ip) ? ip : embeddedV4(ip);
  const hit = v4 ? blocked.check(v4, 'ipv4') : net.isIPv6(ip) ? blocked.check(ip, 'ipv6') : true;
  if (!hit) return null;
  if (v4?.startsWith('169.254.')) return `${ip} is a link-local address (the cloud metadata service lives there)`;
  if (v4?.startsWith('127.') || ip === '::1') return `${ip} is a loopback address (this machine)`;
  return `${ip} is a private, reserved or non-routable address`;
}

export type Lookup = (host: string) => Promise<readonly string[]>;
const systemLookup: Lookup = async (host) => (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface CheckedUrl {
  readonly url: URL;
  /** The address checked, to connect to (the host name still goes in Host and TLS SNI). */
  readonly address: string;
  readonly family: 4 | 6;
}

/** The URL parsed and its host resolved and checked; a UseCaseError('invalid') that says what to do otherwise. */
export async function checkReceiverUrl(raw: string, opts: { allowPrivate: boolean; lookup?: Lookup | undefined }): Promise<CheckedUrl> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UseCaseError('invalid', `"${raw}" is not a URL: give the full address of your receiver, e.g. https://hooks.example.com/settle`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && opts.allowPrivate))
    throw new UseCaseError('invalid', `the URL must start with https:// (${url.protocol}// is refused: deliveries carry payment data)`);
  if (url.username || url.password) throw new UseCaseError('invalid', 'put no user name or password in the URL: verify the Settle-Signature header instead');
  if (url.hash) throw new UseCaseError('invalid', 'the URL must not have a #fragment (it is never sent)');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: readonly string[];
  try {
    addresses = net.isIP(host) ? [host] : await (opts.lookup ?? systemLookup)(host);
  } catch (e) {
    throw new UseCaseError('invalid', `${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): check the host name`);
  }
  if (addresses.length === 0) throw new UseCaseError('invalid', `${host} does not resolve to any address: check the host name`);
  if (!opts.allowPrivate) {
    for (const a of addresses) {
      const why = refusedAddress(a);
      if (why)
        throw new UseCaseError(
          'invalid',
          `${host} resolves to ${why}: Settle does not send webhooks into its own network. Use a public address (an operator can allow private ones with SETTLE_WEBHOOKS_ALLOW_PRIVATE=1)`,
          { address: a },
        );
    }
  }
  const address = addresses[0]!;
  return { url, address, family: net.isIPv6(address) ? 6 : 4 };
}

// The .qwc file the MSP opens in the QuickBooks Web Connector ("Add an application"): where Settle's SOAP
// endpoint is, the user name that names the workspace, and the schedule. The password is not in it — the Web
// Connector asks for it once and keeps it; Settle shows it when the connection is made (settle connect).
// OwnerID and FileID are stable per workspace (derived from its id), so re-downloading the file replaces the
// application in the Web Connector instead of adding a second one.
import { createHash } from 'node:crypto';
import { escapeXml } from './qbxml/xml.ts';
import { QBWC_PATH, webConnectorUserName } from './web-connector.ts';

function guid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex').toUpperCase();
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}}`;
}

export interface QwcInput {
  readonly tenantId: string;
  readonly workspaceName: string;
  /** Settle's public address; the Web Connector requires https except for localhost. */
  readonly publicUrl: string;
  readonly runEveryMinutes: number;
}

export function qwcFile(q: QwcInput): string {
  const base = q.publicUrl.replace(/\/$/, '');
  const url = new URL(`${base}${QBWC_PATH}`);
  if (url.protocol !== 'https:' && !['localhost', '127.0.0.1'].includes(url.hostname)) {
    throw new Error(`the Web Connector only calls https addresses (or localhost); Settle's public address is ${base} — set PUBLIC_URL to its https address`);
  }
  const el = (name: string, value: string) => `  <${name}>${escapeXml(value)}</${name}>\n`;
  return (
    '<?xml version="1.0"?>\n<QBWCXML>\n' +
    el('AppName', `Settle (${q.workspaceName})`) +
    el('AppID', '') +
    el('AppURL', url.toString()) +
    el('AppDescription', 'Settle posts payments, payout deposits and reversals to this company file.') +
    el('AppSupport', `${base}/`) +
    el('UserName', webConnectorUserName(q.tenantId)) +
    el('OwnerID', guid(`owner:${q.tenantId}`)) +
    el('FileID', guid(`file:${q.tenantId}`)) +
    el('QBType', 'QBFS') +
    `  <Scheduler>\n    <RunEveryNMinutes>${q.runEveryMinutes}</RunEveryNMinutes>\n  </Scheduler>\n` +
    el('IsReadOnly', 'false') +
    '</QBWCXML>\n'
  );
}

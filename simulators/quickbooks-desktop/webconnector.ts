// The QuickBooks Web Connector, as the simulator plays it: every `runEveryMs` (the .qwc's RunEveryNMinutes)
// one run against Settle's SOAP endpoint — serverVersion, clientVersion, authenticate, then sendRequestXML →
// (QuickBooks) → receiveResponseXML until 100 % or an error (then getLastError), closeConnection. It talks SOAP
// through the `soap` client from Intuit's WSDL, as the real one does. "Poll now" (`_sim/poll-now`) starts a run
// at once (the real Web Connector's "Update Selected" button). Runs never overlap.
import { fileURLToPath } from 'node:url';
import { createClientAsync, type Client } from 'soap';
import { handleQbxml, ParseFailure, type Injected } from './qbxml.ts';
import type { CompanyFile } from './store.ts';

const WSDL = fileURLToPath(new URL('../../src/connectors/accounting/quickbooks-desktop/QBWebConnectorSvc.wsdl', import.meta.url));

export interface WebConnectorSettings {
  /** Settle's AppURL from the .qwc (…/webhooks/qbwc). */
  appUrl: string;
  userName: string;
  password: string;
  runEveryMs: number;
}

export interface RunRecord {
  readonly startedAt: string;
  readonly outcome: 'none' | 'done' | 'nvu' | 'error';
  readonly documents: number;
  readonly error?: string;
}

export interface WebConnectorFaults extends Injected {
  /**
   * QuickBooks carries out the next N documents that hold a write, but their answer never reaches Settle (the
   * Web Connector calls connectionError instead) — a crash or a dropped line at the worst moment.
   */
  loseResponse: number;
  /** QuickBooks cannot open the company file: receiveResponseXML carries this HRESULT. */
  hresult: number;
  /** Documents carried out normally before the `hresult` fault applies (a run failing mid-way). */
  hresultAfter: number;
  /** QuickBooks carries out the next N documents that hold a write, but the response Settle receives is cut short. */
  truncate: number;
}

type Call = (args: Record<string, unknown>) => Promise<[Record<string, unknown>]>;

export class WebConnector {
  settings: WebConnectorSettings | null = null;
  readonly runs: RunRecord[] = [];
  /** Every qbXML request document Settle handed over (tests validate them against the XSD). */
  readonly requests: string[] = [];
  readonly faults: WebConnectorFaults = { inUse: 0, loseResponse: 0, hresult: 0, hresultAfter: 0, truncate: 0 };
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RunRecord> | null = null;

  constructor(private readonly company: CompanyFile) {}

  configure(s: WebConnectorSettings): void {
    this.settings = s;
    this.client = null;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    if (!this.settings) return;
    this.timer = setInterval(() => void this.runNow().catch(() => undefined), this.settings.runEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One run now, or the one already going. */
  runNow(): Promise<RunRecord> {
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  private async call(op: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const s = this.settings!;
    this.client ??= await createClientAsync(WSDL, { endpoint: s.appUrl, forceSoap12Headers: false });
    const fn = (this.client as unknown as Record<string, Call>)[`${op}Async`]!;
    const [result] = await fn.call(this.client, args);
    return result ?? {};
  }

  private async run(): Promise<RunRecord> {
    const startedAt = new Date().toISOString();
    let documents = 0;
    const record = (r: Omit<RunRecord, 'startedAt' | 'documents'>): RunRecord => {
      const rec = { startedAt, documents, ...r };
      this.runs.push(rec);
      return rec;
    };
    if (!this.settings) return record({ outcome: 'error', error: 'not configured' });
    // Each run opens the company file in a QuickBooks session of its own: the last run's iterators are gone.
    this.company.iterators.newSession();
    try {
      await this.call('serverVersion', {});
      await this.call('clientVersion', { strVersion: '2.3.0.215' });
      const auth = await this.call('authenticate', { strUserName: this.settings.userName, strPassword: this.settings.password });
      const [ticket, second] = ((auth['authenticateResult'] as { string?: string[] } | undefined)?.string ?? []) as string[];
      if (second === 'nvu' || !ticket) return record({ outcome: 'nvu', error: 'Settle refused the user name or password' });
      if (second === 'none') {
        await this.call('closeConnection', { ticket });
        return record({ outcome: 'none' });
      }
      for (let i = 0; i < 10_000; i++) {
        const send = await this.call('sendRequestXML', {
          ticket,
          strHCPResponse: '',
          strCompanyFileName: this.company.path,
          qbXMLCountry: 'US',
          qbXMLMajorVers: 13,
          qbXMLMinorVers: 0,
        });
        const xml = String(send['sendRequestXMLResult'] ?? '');
        if (!xml) {
          const err = String((await this.call('getLastError', { ticket }))['getLastErrorResult'] ?? '');
          await this.call('closeConnection', { ticket });
          return record({ outcome: 'error', error: err });
        }
        documents += 1;
        this.requests.push(xml);
        let response = '';
        let hresult = '';
        let message = '';
        const failHere = this.faults.hresult > 0 && this.faults.hresultAfter <= 0;
        if (this.faults.hresult > 0 && !failHere) this.faults.hresultAfter -= 1;
        if (failHere) {
          this.faults.hresult -= 1;
          hresult = '0x80040408';
          message = 'Could not start QuickBooks.';
        } else {
          try {
            response = handleQbxml(this.company, xml, this.faults);
          } catch (e) {
            if (!(e instanceof ParseFailure)) throw e;
            hresult = e.hresult;
            message = e.message;
          }
        }
        if (this.faults.loseResponse > 0 && !hresult && /AddRq\b/.test(xml)) {
          this.faults.loseResponse -= 1;
          await this.call('connectionError', { ticket, hresult: '0x80072EE2', message: 'The operation timed out' });
          return record({ outcome: 'error', error: 'response lost (injected)' });
        }
        if (this.faults.truncate > 0 && response && /AddRq\b/.test(xml)) {
          this.faults.truncate -= 1;
          response = response.slice(0, Math.floor(response.length / 2));
        }
        const recv = await this.call('receiveResponseXML', { ticket, response, hresult, message });
        const percent = Number(recv['receiveResponseXMLResult']);
        if (percent < 0) {
          const err = String((await this.call('getLastError', { ticket }))['getLastErrorResult'] ?? '');
          await this.call('closeConnection', { ticket });
          return record({ outcome: 'error', error: err });
        }
        if (percent >= 100) break;
      }
      await this.call('closeConnection', { ticket });
      return record({ outcome: 'done' });
    } catch (e) {
      return record({ outcome: 'error', error: describe(e) });
    }
  }
}

/** A transport error, or a SOAP fault / HTTP error the soap client hands back as an object. */
function describe(e: unknown): string {
  if (e instanceof Error) {
    const body = (e as { body?: unknown }).body;
    return body ? `${e.message}: ${String(body).slice(0, 500)}` : e.message;
  }
  try {
    return JSON.stringify(e).slice(0, 500);
  } catch {
    return String(e);
  }
}

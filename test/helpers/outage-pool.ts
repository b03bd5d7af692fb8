// A pg pool whose new connections can be refused as a stopped PostgreSQL refuses them: the job runner's
// connections go away for a few seconds (an outage) while the test's own clients keep working.
import pg from 'pg';

export class OutagePool extends pg.Pool {
  down = false;
  override connect(...args: unknown[]): never {
    if (this.down) {
      const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1 (database stopped)'), { code: 'ECONNREFUSED' });
      return Promise.reject(e) as never;
    }
    return (super.connect as (...a: unknown[]) => never)(...args);
  }
}

// Validates what the Stripe simulator answered against Stripe's own OpenAPI description
// (../shared/specs/stripe/spec3.yaml, API 2023-08-16) with ajv: 2xx bodies against the operation's 200
// schema, errors against its `default` (Stripe's error envelope), and answers for paths Stripe does not
// have against the error schema itself. Objects are closed (spec-schemas.ts): an invented field fails.
import { Ajv, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { RecordedExchange } from '../../../simulators/stripe/router.ts';
import { UNRECOGNIZED } from '../../../simulators/stripe/router.ts';
import { loadStripeSpec, responseSchema, retarget, type OpenApi } from '../../../simulators/stripe/spec-schemas.ts';

export class StripeSchemaCheck {
  readonly spec: OpenApi = loadStripeSpec();
  readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    // ajv-formats is CommonJS: under NodeNext its default export arrives wrapped.
    const addFormats = ((formatsPlugin as unknown as { default?: typeof formatsPlugin }).default ?? formatsPlugin) as unknown as (a: Ajv) => Ajv;
    addFormats(this.ajv);
    this.ajv.addFormat('unix-time', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
    this.ajv.addFormat('decimal', { type: 'string', validate: (s: string) => /^-?\d+(\.\d+)?$/.test(s) });
    this.ajv.addSchema({ $id: 'stripe.json', components: this.spec.components } as object);
  }

  /** A validator for a component schema, e.g. `error` or `payment_intent`. */
  component(name: string): ValidateFunction {
    return this.cached(`#${name}`, () => ({ $ref: `stripe.json#/components/schemas/${name}` }));
  }

  /** Failures (empty when every exchange matches what Stripe documents for it). */
  check(exchanges: readonly RecordedExchange[]): string[] {
    const failures: string[] = [];
    for (const x of exchanges) {
      const key = `${x.method} ${x.route} ${x.status < 300 ? 200 : 'default'}`;
      let validate: ValidateFunction;
      if (x.route === UNRECOGNIZED) validate = this.component('error');
      else {
        const schema = responseSchema(this.spec, x.method, x.route, x.status);
        if (!schema) {
          failures.push(`${key}: no such operation in spec3.yaml`);
          continue;
        }
        validate = this.cached(key, () => retarget(schema, 'stripe.json') as object);
      }
      if (!validate(x.body)) failures.push(`${key} (${x.status}): ${this.ajv.errorsText(validate.errors?.slice(0, 5), { separator: '\n    ' })}`);
      // Stripe's error bodies are always the envelope, whatever the operation documents.
      if (x.status >= 400 && !this.component('error')(x.body)) failures.push(`${key} (${x.status}): not Stripe's error envelope`);
    }
    return failures;
  }

  private cached(key: string, make: () => object): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(make());
      this.compiled.set(key, v);
    }
    return v;
  }
}

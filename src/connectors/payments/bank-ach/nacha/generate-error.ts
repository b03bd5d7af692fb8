/** Invalid generator input; `path` names the input value (e.g. `batches[0].entries[3].routingNumber`). */
export class AchGenerateError extends Error {
  override readonly name = 'AchGenerateError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

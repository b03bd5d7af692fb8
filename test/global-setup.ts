// Placeholder until the database harness lands: integration tests get PostgreSQL from here.
export default async function setup(): Promise<() => Promise<void>> {
  return async () => {};
}

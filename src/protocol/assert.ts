// Assertions that stay on in production. A failed assertion is a bug:
// it throws AssertionError and is never caught to carry on. Expected failures are typed
// errors from errors.ts instead.

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Ends an exhaustive switch: the compiler proves `value` is unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

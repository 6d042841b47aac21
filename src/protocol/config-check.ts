// Validation of configuration limits at construction: every limit is a
// named field with its unit in the name, and a bad one fails fast with a precise message.

import { InvalidArgumentError } from './errors.ts';

/** Throws InvalidArgumentError unless `value` is an integer in [min, max]. */
export function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
    throw new InvalidArgumentError(`${name} must be ${range}, got ${String(value)}`);
  }
}

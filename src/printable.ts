/** Any value as text, for error messages and paths; never throws. */
export function printable(value: unknown): string {
  if (typeof value === 'string') return value
  try {
    return String(value) // a Symbol converts here; a template literal would throw
  } catch {
    return Object.prototype.toString.call(value) // an object whose toString throws
  }
}

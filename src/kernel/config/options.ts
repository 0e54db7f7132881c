/**
 * Constructor options reject keys they do not know, so a typo (`maxAttempt`) throws at construction instead
 * of silently leaving a default in place.
 */
export function rejectUnknownOptions(owner: string, options: object, known: Iterable<string>): void {
  const allowed = new Set(known);
  const unknown = Object.keys(options).filter((k) => !allowed.has(k));
  if (unknown.length > 0) throw new RangeError(`${owner}: unknown option(s) ${unknown.join(', ')}`);
}

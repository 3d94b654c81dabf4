/** What a pkcs11js error or a token's own text may show in a message, and cleanup that must not throw. */

/** The CKR_ value of a pkcs11js error, or undefined. */
export function ckr(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' && /^CKR_/.test((err as Error).message ?? '') ? code : undefined;
}

/** A pkcs11js error's own text (the CKR_ name, or the loader's message); never an argument of ours. */
export function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const ckrName = /CKR_[A-Z0-9_]+/.exec(message)?.[0];
  return (ckrName ?? message.split('\n')[0]).slice(0, 200);
}

export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

export function ignoreErrors(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanup must not hide the error that caused it, nor fail a wrap that succeeded.
  }
}

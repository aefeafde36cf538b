// The bearer token lives in sessionStorage alone: never in a URL, a cookie or localStorage,
// and it is gone when the tab closes.
const KEY = 'assay.token';

export interface Claims {
  sub?: string;
  account_id?: string;
  exp?: number;
}

export const currentToken = (): string | null => sessionStorage.getItem(KEY);

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token.trim().replace(/^Bearer\s+/i, ''));
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

/** The token's claims as it states them, for display only: Assay is what verifies them. */
export function claimsOf(token: string): Claims | null {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload)) as Claims;
  } catch {
    return null;
  }
}

/** Whether the token says it has expired (a token that says nothing is left to Assay). */
export function isExpired(token: string, now = Date.now()): boolean {
  const exp = claimsOf(token)?.exp;
  return typeof exp === 'number' && exp * 1000 <= now;
}

const refusals = new Set<(message: string) => void>();

/** Assay refused the token: forget it and ask for a new one with this message. */
export function refused(message: string): void {
  signOut();
  refusals.forEach((r) => r(message));
}

export function onRefused(listener: (message: string) => void): () => void {
  refusals.add(listener);
  return () => void refusals.delete(listener);
}

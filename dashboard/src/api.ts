// Every request of the dashboard goes through the typed client of the public API, so the
// page shows exactly what the API answers to anyone with the same token.
import { createAssayClient, type components } from '../../src/client/index.js';
import { currentToken } from './session.js';

export type Schemas = components['schemas'];
export type Label = Schemas['EvaluationLabel'];
export type Figures = Schemas['StatsFigures'];
export type StatsGroup = Schemas['StatsGroup'];

export const api = createAssayClient({
  baseUrl: location.origin,
  token: () => currentToken() ?? '',
});

/** What went wrong, in words a person can act on. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
  get signInAgain(): boolean {
    return this.status === 401;
  }
}

export const ADVICE: Record<number, string> = {
  401: 'Assay refused the token: it is wrong or has expired. Sign in again with a current token.',
  403: 'This token may not read this. Sign in with a token of the right account.',
  404: 'This no longer exists (it may have been deleted), or it belongs to another account.',
  429: 'Too many requests for this account just now. The page tries again shortly.',
  503: 'Assay cannot reach its database right now. The page tries again shortly.',
};

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of an answer, or an ApiProblem with Assay's own message and advice. */
export const need = <T>(pending: Promise<Answer<T>>): Promise<T> =>
  answered(pending).then((a) => a.data);

/** The data of an answer with its response (for its headers), or an ApiProblem. */
export async function answered<T>(
  pending: Promise<Answer<T>>,
): Promise<{ data: T; response: Response }> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch {
    throw new ApiProblem(
      0,
      'Assay cannot be reached. Check the server is running; the page tries again shortly.',
    );
  }
  if (answer.data !== undefined && answer.response.ok)
    return { data: answer.data, response: answer.response };
  const body = answer.error as { message?: string; code?: string } | undefined;
  const status = answer.response.status;
  const said = body?.message ? ` (Assay said: ${body.message})` : '';
  throw new ApiProblem(
    status,
    `${ADVICE[status] ?? `Assay answered ${status}.`}${said}`,
    body?.code,
  );
}

/** Who is calling, as the verified token says. */
export interface Principal {
  accountId: string;
  /** The user (or service) the token was issued to. */
  sub: string;
  /** Set when an automated evaluator holds the token. */
  evaluatorId: string | null;
}

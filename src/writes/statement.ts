/**
 * One SQL statement built from steps, each a data-modifying part of a WITH that later steps
 * may read by name; the last step is the statement's own. Parameters are numbered as they
 * are added, so that steps from several hands join without renumbering.
 */
export class Statement {
  readonly params: unknown[] = [];
  /**
   * An SQL expression over the steps whose value the write keeps once the statement has run
   * (`WriteScope.answer`): what the change needs back from its last statement.
   */
  answer?: string;
  private readonly steps: { name: string; sql: string }[] = [];

  /** The placeholder of a new parameter. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /**
   * Adds a step whose placeholders are already numbered from `params.length + 1` on, with
   * those parameters.
   */
  numbered(name: string, built: { sql: string; params: unknown[] }): this {
    this.params.push(...built.params);
    return this.step(name, built.sql);
  }

  /** Adds a step; steps after it read the rows it RETURNs as `name`. */
  step(name: string, sql: string): this {
    this.steps.push({ name, sql });
    return this;
  }

  get empty(): boolean {
    return this.steps.length === 0;
  }

  get sql(): string {
    const last = this.steps.at(-1)!;
    const earlier = this.steps.slice(0, -1).map((s) => `${s.name} AS (${s.sql})`);
    return earlier.length === 0 ? last.sql : `WITH ${earlier.join(', ')} ${last.sql}`;
  }
}

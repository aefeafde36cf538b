import { negotiate } from '../common/accept.js';

export const EXPORT_TYPES = ['application/x-ndjson', 'text/csv'] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];

/** JSON pages first, so that JSON wins a tie of q-values. */
const LIST_TYPES = ['application/json', ...EXPORT_TYPES] as const;

/** The export a request's Accept header negotiates, or undefined for JSON pages (or a 406). */
export function exportTypeOf(accept: string | undefined): ExportType | undefined {
  const type = negotiate(accept, LIST_TYPES);
  return type === 'application/json' ? undefined : type;
}

/** An instant as the JSON API writes it: ISO 8601 in UTC with milliseconds. */
const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** RFC 4180: a field holding a comma, a quote or a line break is quoted, quotes doubled. */
const quoted = (column: string) =>
  `CASE WHEN ${column} ~ E'[",\\r\\n]' THEN '"' || replace(${column}, '"', '""') || '"' ELSE ${column} END`;

/**
 * Text a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage
 * return) gets a leading ', as OWASP advises against CSV injection; then it is quoted.
 */
const text = (column: string) =>
  quoted(
    `(CASE WHEN left(${column}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || ${column} ELSE ${column} END)`,
  );

/** The RunEvaluationRecord fields in the API's order, each as SQL over run_evaluations `e`. */
const FIELDS: [name: string, json: string, csv: string][] = [
  ['id', 'e.id', 'e.id'],
  ['account_id', 'e.account_id', text('e.account_id')],
  ['run_id', 'e.run_id', 'e.run_id'],
  ['output_name', 'e.output_name', text('e.output_name')],
  ['field_path', 'e.field_path', text('e.field_path')],
  ['evaluation_label_id', 'e.evaluation_label_id', 'e.evaluation_label_id'],
  ['value', 'e.value', 'e.value'],
  ['created_by', 'e.created_by', text('e.created_by')],
  ['created_by_evaluator_id', 'e.created_by_evaluator_id', 'e.created_by_evaluator_id'],
  ['created_at', iso('e.created_at'), iso('e.created_at')],
  ['updated_by', 'e.updated_by', text('e.updated_by')],
  ['updated_at', iso('e.updated_at'), iso('e.updated_at')],
  ['label_version', 'e.label_version', 'e.label_version'],
];

export const CSV_HEADER = `${FIELDS.map(([name]) => name).join(',')}\r\n`;

/**
 * One exported row as a line of text, written by PostgreSQL: the service then only joins
 * lines, which keeps an export of millions of rows off its CPU and its heap. NDJSON is
 * row_to_json of the RunEvaluationRecord's fields in order; CSV is concat(), where null is empty.
 */
export function exportLineSql(type: ExportType): string {
  if (type === 'text/csv') {
    return `concat(${FIELDS.map(([, , csv]) => csv).join(", ',', ")})`;
  }
  const fields = FIELDS.map(([name, json]) => `${json} AS ${name}`).join(', ');
  return `(SELECT row_to_json(x)::text FROM (SELECT ${fields}) x)`;
}

/** Line ends: RFC 4180's CRLF for CSV, LF for NDJSON. */
export const lineEnd = (type: ExportType) => (type === 'text/csv' ? '\r\n' : '\n');

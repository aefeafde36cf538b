import {
  type RunEvaluationDto,
  toRunEvaluationDto,
} from '../evaluations/dto/run-evaluation.dto.js';
import type { EvaluationEntity } from '../evaluations/evaluation.entity.js';

export const EXPORT_TYPES = ['application/x-ndjson', 'text/csv'] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];

/** The export a request's Accept header asks for (the first it names), or none: JSON pages. */
export function exportTypeOf(accept: string | undefined): ExportType | undefined {
  const named = (accept ?? '').split(',').map((part) => part.split(';')[0].trim().toLowerCase());
  return named.map((t) => EXPORT_TYPES.find((e) => e === t)).find((t) => t !== undefined);
}

const COLUMNS: (keyof RunEvaluationDto)[] = [
  'id',
  'account_id',
  'run_id',
  'output_name',
  'field_path',
  'evaluation_label_id',
  'value',
  'created_by',
  'created_by_evaluator_id',
  'created_at',
  'updated_by',
  'updated_at',
];

/** RFC 4180: a field holding a comma, a quote or a line break is quoted, quotes doubled. */
function csvField(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const CSV_HEADER = `${COLUMNS.join(',')}\r\n`;

/** One page of rows in the export's format, as one chunk. */
export function formatRows(type: ExportType, rows: EvaluationEntity[]): string {
  let out = '';
  for (const row of rows) {
    const dto = toRunEvaluationDto(row);
    out +=
      type === 'text/csv'
        ? `${COLUMNS.map((c) => csvField(dto[c])).join(',')}\r\n`
        : `${JSON.stringify(dto)}\n`;
  }
  return out;
}

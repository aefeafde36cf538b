import { fmt, fmtInterval } from '../format.js';

/**
 * A number as shown, with the exact figure the API answered in `value`: what a person reads
 * and what a machine (or a test) can check are the same element.
 */
export function Num({ value, field }: { value: number | null | undefined; field: string }) {
  return (
    <data value={value === null || value === undefined ? '' : String(value)} data-field={field}>
      {fmt(value)}
    </data>
  );
}

export function Interval({
  value,
  field,
}: {
  value: readonly number[] | null | undefined;
  field: string;
}) {
  return (
    <data value={value ? JSON.stringify(value) : ''} data-field={field}>
      {fmtInterval(value)}
    </data>
  );
}

import { jsonpath } from 'json-p3';

/** Where a node is: its keys and indexes from the top, as one comparable string. */
const at = (location: (string | number)[]) => JSON.stringify(location);

/**
 * The nodes a field_path selects in a value (read as Assay reads it: without a leading `$`
 * it is `$.` + path), or none when it selects nothing now (outputs can change after an
 * evaluation was written).
 */
export function selected(fieldPath: string, value: unknown): string[] {
  try {
    const path = fieldPath.startsWith('$') ? fieldPath : `$.${fieldPath}`;
    return jsonpath.query(path, value as never).nodes.map((n) => at(n.location));
  } catch {
    return [];
  }
}

/**
 * A JSON value formatted as text, every node tagged with its normalized path; nodes in
 * `marked` are highlighted (with a visible border as well as colour) and name their markers.
 */
export function JsonTree({
  value,
  marked,
  path = [],
  indent = 0,
}: {
  value: unknown;
  marked: Map<string, string[]>;
  path?: (string | number)[];
  indent?: number;
}) {
  const pad = '  '.repeat(indent);
  const inner = `${pad}  `;
  const marks = marked.get(at(path));
  let body;
  if (Array.isArray(value)) {
    body =
      value.length === 0 ? (
        '[]'
      ) : (
        <>
          {'[\n'}
          {value.map((v: unknown, i) => (
            <span key={i}>
              {inner}
              <JsonTree value={v} marked={marked} path={[...path, i]} indent={indent + 1} />
              {i < value.length - 1 ? ',\n' : '\n'}
            </span>
          ))}
          {pad}]
        </>
      );
  } else if (value !== null && typeof value === 'object') {
    const entries: [string, unknown][] = Object.entries(value);
    body =
      entries.length === 0 ? (
        '{}'
      ) : (
        <>
          {'{\n'}
          {entries.map(([k, v], i) => (
            <span key={k}>
              {inner}
              {JSON.stringify(k)}:{' '}
              <JsonTree value={v} marked={marked} path={[...path, k]} indent={indent + 1} />
              {i < entries.length - 1 ? ',\n' : '\n'}
            </span>
          ))}
          {pad}
          {'}'}
        </>
      );
  } else body = JSON.stringify(value);
  if (!marks) return <>{body}</>;
  return (
    <mark data-path={at(path)} title={`Evaluated: ${marks.join(', ')}`}>
      {body}
    </mark>
  );
}

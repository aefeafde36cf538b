import { href, navigate, type Route } from '../router.js';

export interface Field {
  /** The URL parameter, usually the API's own name. */
  name: string;
  title: string;
  kind?: 'text' | 'date' | 'select';
  options?: { value: string; text: string }[];
  placeholder?: string;
  /** What the view uses when the URL says nothing. */
  default?: string;
}

/** Filters live in the URL: changing one is a navigation, so Back undoes it. */
export function Filters({
  route,
  fields,
  legend,
}: {
  route: Route;
  fields: Field[];
  legend: string;
}) {
  const apply = (name: string, value: string) => {
    const query = Object.fromEntries(route.query);
    query[name] = value;
    navigate(href(route.view, route.id, query));
  };
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      <fieldset>
        <legend>{legend}</legend>
        {fields.map((f) => {
          const id = `f-${f.name.replace(/\W/g, '-')}`;
          const value = route.query.get(f.name) || f.default || '';
          const onChange = (e: Event) => apply(f.name, (e.currentTarget as HTMLInputElement).value);
          return (
            <div class="field" key={f.name}>
              <label for={id}>{f.title}</label>
              {f.kind === 'select' ? (
                <select id={id} name={f.name} value={value} onChange={onChange}>
                  {f.options!.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.text}
                    </option>
                  ))}
                </select>
              ) : f.kind === 'date' ? (
                <input id={id} name={f.name} type="date" value={value} onChange={onChange} />
              ) : (
                <input
                  id={id}
                  name={f.name}
                  type="text"
                  value={value}
                  placeholder={f.placeholder}
                  onChange={onChange}
                />
              )}
            </div>
          );
        })}
      </fieldset>
    </form>
  );
}

export const INTERVALS = ['hour', 'day', 'week', 'month'].map((v) => ({ value: v, text: v }));

export const SOURCES = [
  { value: '', text: 'anyone' },
  { value: 'human', text: 'people' },
  { value: 'evaluator', text: 'evaluators' },
];

/** The filters of §11 as the URL holds them, turned into the API's query (dates → instants). */
export function statsFilters(query: URLSearchParams, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [
    'workflow',
    'source',
    'output_name',
    'created_by',
    'created_by_evaluator_id',
    'label_version',
    'run_status',
  ]) {
    const v = query.get(prefix + name);
    if (v) out[prefix + name] = v;
  }
  for (const name of ['from', 'to']) {
    const v = query.get(prefix + name);
    if (v) out[prefix + name] = `${v}T00:00:00.000Z`;
  }
  return out;
}

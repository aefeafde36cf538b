import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { Interval, Num } from './num.js';

export type Cell =
  number | string | null | undefined | readonly number[] | { text: string; href: string };

export interface Column {
  key: string;
  title: string;
}

export interface TableSpec {
  columns: Column[];
  rows: { key: string; cells: Record<string, Cell> }[];
}

/** Plot draws into a fixed width: the width of the chart's own box, so nothing scrolls. */
export type Draw = (width: number) => SVGElement | HTMLElement;

function CellView({ cell, field }: { cell: Cell; field: string }) {
  if (cell === null || cell === undefined) return <Num value={null} field={field} />;
  if (typeof cell === 'number') return <Num value={cell} field={field} />;
  if (typeof cell === 'string') return <>{cell}</>;
  if ('href' in cell) return <a href={cell.href}>{cell.text}</a>;
  return <Interval value={cell} field={field} />;
}

/** A table of exact figures; every chart has one, and some views are tables alone. */
export function FigureTable({
  spec,
  caption,
  name,
}: {
  spec: TableSpec;
  caption: string;
  name: string;
}) {
  return (
    <div class="table-wrap">
      <table data-table={name}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {spec.columns.map((c) => (
              <th scope="col" key={c.key}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {spec.rows.map((row) => (
            <tr key={row.key} data-row={row.key}>
              {spec.columns.map((c, i) => {
                const content = <CellView cell={row.cells[c.key]} field={c.key} />;
                return i === 0 ? (
                  <th scope="row" key={c.key}>
                    {content}
                  </th>
                ) : (
                  <td key={c.key}>{content}</td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A chart and, under it, its table view with the same numbers. The drawing is an image for
 * assistive technology, described by its title; the table is what it reads.
 */
export function Chart(props: {
  title: string;
  name: string;
  draw: Draw;
  table: TableSpec;
  children?: ComponentChildren;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let drawn = -1;
    const paint = () => {
      const width = Math.max(240, Math.min(el.clientWidth || 640, 960));
      if (width === drawn) return;
      drawn = width;
      const drawing = props.draw(width);
      // One image with one name: the marks' own labels would be read as clutter, or not at all.
      drawing.querySelectorAll('[aria-label], [aria-description]').forEach((e) => {
        e.removeAttribute('aria-label');
        e.removeAttribute('aria-description');
      });
      drawing.setAttribute('role', 'img');
      drawing.setAttribute('aria-label', `${props.title}. Its numbers are in the table below.`);
      el.replaceChildren(drawing);
    };
    paint();
    const resize = new ResizeObserver(() => paint());
    resize.observe(el);
    return () => resize.disconnect();
  });
  return (
    <figure class="chart" data-chart={props.name}>
      <figcaption>{props.title}</figcaption>
      {props.children}
      <div class="plot" ref={box} />
      <details>
        <summary>Table view</summary>
        <FigureTable spec={props.table} caption={props.title} name={props.name} />
      </details>
    </figure>
  );
}

// Views and their filters live in the URL (/dashboard/<view>/<id>?<filters>): a reload or a
// shared link shows the same view, and Back returns to the previous one.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/dashboard/';

export interface Route {
  view: string;
  id?: string;
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '';
  const [view = '', id] = rest.split('/').filter(Boolean).map(decodeURIComponent);
  return { view, id, query: new URLSearchParams(location.search) };
}

/** A dashboard address: the view, its id, and the filters that have a value. */
export function href(
  view: string,
  id?: string,
  query: Record<string, string | undefined> = {},
): string {
  const path =
    BASE +
    [view, id]
      .filter(Boolean)
      .map((p) => encodeURIComponent(p!))
      .join('/');
  const search = new URLSearchParams(
    Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  ).toString();
  return search ? `${path}?${search}` : path;
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  listeners.forEach((l) => l());
}

/** The current route, re-read on every navigation and on Back/Forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => {
      setRoute(currentRoute());
      window.scrollTo(0, 0);
    };
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** Links inside the dashboard change the view without a reload; others behave as links. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    const a = (event.target as Element).closest?.('a');
    if (!a || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}

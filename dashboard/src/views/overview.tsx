import type { Route } from '../router.js';

export function OverviewView({ route }: { route: Route }) {
  return <h1 id="view-title">Overview {route.query.toString()}</h1>;
}

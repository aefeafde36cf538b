import type { Route } from '../router.js';

export function EvaluatorsView({ route }: { route: Route }) {
  return <h1 id="view-title">Evaluators {route.query.toString()}</h1>;
}

import type { ApiProblem } from '../api.js';
import { href } from '../router.js';

/** An error the reader can act on: Assay's message, what to do, a way back. */
export function Problem({ problem }: { problem: ApiProblem }) {
  return (
    <div class="problem" role="alert">
      <p>{problem.message}</p>
      {problem.status === 404 && (
        <p>
          <a href={href('')}>Back to the overview</a>
        </p>
      )}
    </div>
  );
}

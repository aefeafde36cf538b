// Loading a view's data: again whenever live changes arrive or its inputs change, keeping
// what is shown until the new answer is in, and retrying by itself when Assay is briefly
// unavailable.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from './api.js';
import { useLive } from './live.js';
import { refused } from './session.js';

export interface Loaded<T> {
  data?: T;
  problem?: ApiProblem;
  loading: boolean;
}

const RETRY_MS = 3000;
const retryable = (p: ApiProblem) => p.status === 0 || p.status === 429 || p.status >= 500;

export function useLoad<T>(load: () => Promise<T>, inputs: unknown[]): Loaded<T> {
  const { changes } = useLive();
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  const [attempt, setAttempt] = useState(0);
  const latest = useRef(0);
  const key = JSON.stringify(inputs);
  useEffect(() => {
    const mine = ++latest.current;
    let retry: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === latest.current && setState({ data, loading: false }),
      (error: unknown) => {
        if (mine !== latest.current) return;
        const problem =
          error instanceof ApiProblem
            ? error
            : new ApiProblem(0, `The page failed: ${String(error)}`);
        setState({ problem, loading: false });
        if (problem.signInAgain) refused(problem.message);
        if (retryable(problem)) retry = setTimeout(() => setAttempt((a) => a + 1), RETRY_MS);
      },
    );
    return () => clearTimeout(retry);
  }, [key, changes, attempt]);
  return state;
}

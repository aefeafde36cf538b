import type { WriteScope } from './write-scope.js';

/**
 * A check every write must pass before it changes anything, added by the feature that owns
 * it (an evaluator token must name a registered, enabled evaluator, say). It reads what it
 * needs with `scope.readShared`, so that it holds until the write commits, and throws an
 * ApiError to refuse the write.
 */
export interface WriteCheck {
  check(scope: WriteScope): Promise<void>;
}

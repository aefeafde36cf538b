import type { WriteScope } from './write-scope.js';

/**
 * A check every write must pass before it changes anything, added by the feature that owns
 * it (an evaluator token must name a registered, enabled evaluator, say). It runs inside
 * the write's transaction and throws an ApiError to refuse the write.
 */
export interface WriteCheck {
  check(scope: WriteScope): Promise<void>;
}

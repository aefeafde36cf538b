/**
 * Polls `check` every 100 ms until it holds; fails after `ms`, which leaves room for a machine
 * several times slower than an idle one (the bound is there to end a wait, not to time it).
 */
export async function until(check: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the condition did not hold within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

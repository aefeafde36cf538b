import { afterAll, beforeAll } from '@jest/globals';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, started as the machine's probe starts it: nothing reaches the network. */
const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
};

/**
 * A Chromium for the enclosing describe block. It is closed after the block even when its
 * launch outlived a timed-out hook, so that no browser is left to keep Jest from exiting.
 */
export function useChromium(): () => Browser {
  let launching: Promise<Browser> | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    launching = chromium.launch(LAUNCH);
    browser = await launching;
  });
  afterAll(async () => {
    await (await launching?.catch(() => undefined))?.close();
  });
  return () => {
    if (!browser) throw new Error('Chromium did not start');
    return browser;
  };
}

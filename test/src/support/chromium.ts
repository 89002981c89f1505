import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); BLOCKYARD_TEST_CHROMIUM names another binary. */
export const CHROMIUM_PATH = process.env.BLOCKYARD_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches the system's Chromium, headless and without the sandbox (CI containers run as root),
 * through playwright-core, which never downloads a browser. Throws, rather than skipping, when
 * the binary is missing: browser tests must run wherever the suite runs.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: install Debian's package (apt-get install -y chromium; .ci/run does) or set BLOCKYARD_TEST_CHROMIUM`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

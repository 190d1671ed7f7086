import * as fs from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/**
 * The real browser of the page tests (the report, the experiments page, the exported web page):
 * Debian's chromium, driven by playwright-core, headless and with every background network
 * feature off, so that a page test sees only the requests the page itself makes.
 */
export const CHROMIUM = process.env.CBNN_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws, saying how to install it, when chromium is not where the tests look. */
export function requireChromium(): string {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `chromium is not installed at ${CHROMIUM}: the browser tests need it. Install it with 'apt-get update && apt-get install -y chromium' (the CI script does), or set CBNN_CHROMIUM to its path.`,
    );
  }
  return CHROMIUM;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: requireChromium(), headless: true, args: [...CHROMIUM_ARGS] });
}

/** A persistent context (its own profile folder), for pages opened from file:// with local storage. */
export function launchChromiumContext(profileDir: string, viewport = { width: 1360, height: 900 }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { executablePath: requireChromium(), headless: true, args: [...CHROMIUM_ARGS], viewport });
}

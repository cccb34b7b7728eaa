import { chromium, type Browser } from 'playwright-core';
import { resolveChromium } from './chromium.js';

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts headless Chromium (see `resolveChromium` for which one), or fails saying how to get one. */
export async function launchChromium(): Promise<Browser> {
  const choice = await resolveChromium();
  return chromium.launch({
    executablePath: choice.executablePath,
    args: chromiumArgs,
    env: { ...process.env, ...choice.env },
  });
}

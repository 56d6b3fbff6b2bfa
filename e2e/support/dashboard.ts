import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { createTestEnv, REPO_ROOT, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { launchChromium } from './browser';

/** Where the dashboard suites leave their screenshots. */
export const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'screenshots');

export interface Dashboard {
  env: TestEnv;
  stack: Stack;
  browser: Browser;
  page: Page;
}

export interface DashboardOptions {
  /** the test env's prefix (its database and stream names) */
  envPrefix: string;
  /** the stack's log folder under test-output, followed by the env's id */
  label: string;
  extraEnv?: Record<string, string>;
  /** the page's browser context; the viewport defaults to 1400 × 900 */
  context?: BrowserContextOptions;
}

/**
 * What every dashboard suite starts from: a test env, the whole stack on it, headless Chromium and
 * one page. If a step fails, what was started before it is stopped before the error is thrown.
 */
export async function openDashboard(options: DashboardOptions): Promise<Dashboard> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const opened: Partial<Dashboard> = { env: await createTestEnv(options.envPrefix) };
  try {
    opened.stack = await startStack(opened.env!, { label: `${options.label}-${opened.env!.id}`, ...(options.extraEnv ? { extraEnv: options.extraEnv } : {}) });
    opened.browser = await launchChromium();
    const context = await opened.browser.newContext({ viewport: { width: 1400, height: 900 }, ...options.context });
    opened.page = await context.newPage();
    return opened as Dashboard;
  } catch (err) {
    await closeDashboard(opened);
    throw err;
  }
}

/** Stops what openDashboard started (any part of it), browser first. */
export async function closeDashboard({ browser, stack, env }: Partial<Dashboard>): Promise<void> {
  await browser?.close();
  if (stack) await stack.stop();
  await env?.dispose();
}

/** A full-page screenshot as test-output/screenshots/<name>.png. */
export function screenshot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

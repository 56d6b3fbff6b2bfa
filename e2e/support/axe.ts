import type { Page } from 'playwright-core';
import { readFileSync } from 'node:fs';

/** axe-core's browser bundle, injected into the page under test */
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

export interface SeriousViolation {
  id: string;
  impact: string | null;
  /** the first five elements concerned, as selectors */
  targets: string[];
}

/** The serious and critical accessibility violations axe-core finds in the page as it is now. */
export async function seriousViolations(page: Page): Promise<SeriousViolation[]> {
  // as a script tag (contexts opened with bypassCSP); where the gateway's CSP refused that inline
  // script, evaluated through the DevTools protocol instead
  await page.addScriptTag({ content: AXE }).catch(() => undefined);
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(AXE);
  // A string: the e2e specs are compiled without the DOM library.
  const violations = await page.evaluate<AxeViolation[]>('axe.run(document).then((r) => r.violations)');
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}

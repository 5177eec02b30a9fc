/// <reference lib="dom" />
/// <reference lib="dom.iterable" />

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { skipIfMissing } from '@isopeer/test-support';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; the HTML report tests open the report in it. */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Chromium with a fresh profile directory. Without Chromium: in CI the test fails; elsewhere it
 * is marked skipped (not passed, even if it checked other things first) and this returns
 * undefined.
 */
export async function launchChromium(t: TestContext): Promise<Chromium | undefined> {
  const missing = `${CHROMIUM} is not installed (apt-get install chromium); the HTML report was not checked in a browser`;
  if (skipIfMissing(t, existsSync(CHROMIUM) ? null : missing)) return undefined;
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Layout faults of a report page as drawn now: text boxes of a timeline that overlap each other
 * or stick out of their picture, and a page wider than the window. Empty when all is well.
 */
export function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1) {
      problems.push(`page is ${doc.scrollWidth} px wide in a ${doc.clientWidth} px window`);
    }
    for (const svg of document.querySelectorAll('svg.timeline')) {
      const name = svg.getAttribute('data-script');
      const frame = svg.getBoundingClientRect();
      const boxes = [...svg.querySelectorAll('text')]
        .map((t) => ({ text: t.textContent ?? '', r: t.getBoundingClientRect() }))
        .filter((b) => b.r.width > 0);
      for (const b of boxes) {
        if (b.r.left < frame.left - 0.5 || b.r.right > frame.right + 0.5) {
          problems.push(`${name}: "${b.text}" sticks out of the picture`);
        }
      }
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i].r;
          const b = boxes[j].r;
          const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (w > 0.5 && h > 0.5) {
            problems.push(`${name}: "${boxes[i].text}" overlaps "${boxes[j].text}"`);
          }
        }
      }
    }
    return problems;
  });
}

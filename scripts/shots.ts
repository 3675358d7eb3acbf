/**
 * `npm run shots`: pictures of every message kind for the README. Renders real payloads with the renderers the
 * function uses (DingTalk and Slack, English and Chinese), draws each as an approximation of its client in HTML, and
 * screenshots that with a local headless Chromium into docs/shots/<kind>.png. A developer tool: not part of the tests
 * or the deployed bundle.
 *
 * Needs Chromium (Debian: apt-get install chromium fonts-noto-cjk fonts-noto-color-emoji); CHROMIUM_PATH overrides
 * /usr/bin/chromium. Nothing is fetched: pages are set from strings and every request is refused.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import UPNG from 'upng-js';
import type { Lang } from '../src/model/lang.js';
import { contentOf } from '../src/render/content.js';
import { renderFor } from '../src/render/index.js';
import { CSS, dingtalkHtml, slackHtml } from './shots/html.js';
import { samples } from './shots/samples.js';

const OUT = 'docs/shots';
// Text on flat colours needs few: 64 keeps the pictures legible at about a third of their size.
const COLOURS = 64;
const LOCALES: { lang: Lang; timeZone: string; label: string }[] = [
  { lang: 'en', timeZone: 'UTC', label: 'English, UTC' },
  { lang: 'zh', timeZone: 'Asia/Shanghai', label: '中文，北京时间' },
];

function page(kind: string, title: string): string {
  const c = contentOf(samples().find((s) => s.kind === kind)!.alerts);
  const cells: string[] = [];
  for (const client of ['dingtalk', 'slack'] as const) {
    for (const loc of LOCALES) {
      const name = client === 'dingtalk' ? 'DingTalk' : 'Slack';
      const body =
        client === 'dingtalk'
          ? dingtalkHtml(renderFor('dingtalk', c, loc), 'ACR 同步告警')
          : slackHtml(renderFor('slack', c, loc), 'acr-sync-alert');
      cells.push(`<div><div class="label"><b>${name}</b> · ${loc.label}</div>${body}</div>`);
    }
  }
  const note =
    'Approximation of how the clients draw these payloads; ' +
    "Slack shows times in each reader's zone (drawn here as the fallback text).";
  const head = `<!doctype html><html><head><meta charset="utf-8"><style>${CSS}</style></head>`;
  const label = `<div class="label"><b>${title}</b> — ${note}</div>`;
  return `${head}<body><div class="grid">${label}${cells.join('')}</div></body></html>`;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'acr-sync-alert-shots-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 940, height: 600 },
    deviceScaleFactor: 1,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-lcd-text',
      '--font-render-hinting=none',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const tab = browser.pages()[0] ?? (await browser.newPage());
    await tab.route('**/*', (route) => route.abort());
    let total = 0;
    for (const s of samples()) {
      await tab.setContent(page(s.kind, s.title), { waitUntil: 'load' });
      const file = join(OUT, `${s.kind}.png`);
      const shot = await tab.locator('.grid').screenshot();
      const img = UPNG.decode(shot.buffer.slice(shot.byteOffset, shot.byteOffset + shot.byteLength) as ArrayBuffer);
      const png = Buffer.from(UPNG.encode(UPNG.toRGBA8(img), img.width, img.height, COLOURS));
      writeFileSync(file, png);
      total += png.length;
      console.log(`${file}: ${img.width}x${img.height}, ${(png.length / 1024).toFixed(0)} KiB`);
    }
    console.log(`${samples().length} pictures, ${(total / 1024).toFixed(0)} KiB in all`);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMessage } from '../../adapters/local/local-thread-store.js';
import { threadPage } from '../../adapters/local/thread-page.js';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { approvalLink, renderPlainText } from '../../src/core/messages.js';
import { approvalMessage } from '../../src/engine/approval-message.js';
import { notices } from '../../src/engine/notices.js';
import { launchChromium } from '../helpers/browser.js';

/**
 * The local thread page in a real browser (Chromium), fed hostile messages: markup in a
 * service name, an error message and a person's reply stays text (the page builds DOM nodes
 * with textContent), no script runs, and the only link is the bridge's own approval link —
 * a URL inside foreign text is not made clickable.
 */
const xss = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const record = {
  id: 'hf_0123456789abcdef0123page',
  service: 'http://127.0.0.1:9/svc',
  serviceName: `Google Workspace ${xss} https://evil.example/login`,
  agentId: `agent ${xss}`,
  scopes: ['read'],
  approvers: [],
  thread: 'local:demo',
  expiresAt: Date.now() + 60_000,
  approvalUrl: 'http://127.0.0.1:9/authorize/ar_1?a="b"&c=<d>',
  answer: 'finish_code',
  attempts: 0,
} as unknown as HandoffRecord;

describe('local thread page with hostile messages (real browser)', () => {
  let server: Server;
  let browser: Browser;
  let origin = '';
  const approval = approvalMessage(record);
  const link = approvalLink(approval)!.href;
  const messages: LocalMessage[] = [
    {
      id: 'demo.1',
      author: 'handoff',
      kind: 'bot',
      text: renderPlainText(approval),
      link,
      at: 1,
      reactions: [],
      redacted: false,
    },
    {
      id: 'demo.2',
      author: `mallory ${xss}`,
      kind: 'human',
      text: `here: https://evil.example/steal ${xss}`,
      at: 2,
      reactions: [],
      redacted: false,
    },
    {
      id: 'demo.3',
      author: 'handoff',
      kind: 'bot',
      text: renderPlainText(notices.failed(record, `see https://evil.example/fix ${xss}`)),
      at: 3,
      reactions: [],
      redacted: false,
    },
  ];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/threads/demo') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(threadPage('demo'));
      } else if (req.url?.startsWith('/v1/threads/local/demo/messages')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messages }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('shows markup as text, runs nothing, and links only the approval link', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/threads/demo`);
    await page.locator('[data-testid="message"]').nth(2).waitFor();
    // Run in the page (a string: this project's TypeScript has no DOM types).
    const facts = (await page.evaluate(`(() => {
      const list = document.getElementById('messages');
      return {
        pwned: window.__pwned,
        links: [...list.querySelectorAll('a')].map((a) => a.getAttribute('href')),
        elements: list.querySelectorAll('img, script, iframe').length,
        text: list.innerText,
      };
    })()`)) as { pwned?: number; links: string[]; elements: number; text: string };
    expect(facts.pwned).toBeUndefined();
    expect(facts.elements).toBe(0);
    expect(facts.links).toEqual([link]);
    expect(link).toBe('http://127.0.0.1:9/authorize/ar_1?a=%22b%22&c=%3Cd%3E');
    expect(facts.text).toContain(xss);
    expect(facts.text).toContain('https://evil.example/steal');
    expect(facts.text).toContain('calls itself “Google Workspace <img src=x onerror="window.__pwned=1"><script>');
    await page.close();
  });
});

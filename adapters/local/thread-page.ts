import { escapeHtml, htmlPage } from '../../src/core/html.js';

/**
 * The local thread page: the conversation, refreshed every 700 ms, and a reply form. The page
 * builds DOM nodes with `textContent`, never HTML from message content, so nothing in a
 * message is markup. The only clickable link is a bridge post's own `link` (its checked
 * approval URL); URLs in any other text — a service name, an error, a person's reply — stay text.
 * An approval request (issue #13) has Approve and Deny buttons: they post a reply naming its
 * tag (`#h-4f2a approve`, `#h-4f2a deny <reason>`) as the viewer named in "Reply as". Opening
 * a login request's link tells the bridge (issue #16), which then polls the service sooner.
 */
export function threadPage(name: string): string {
  const script = `
const name = ${JSON.stringify(name)};
const list = document.getElementById('messages');
let last = '';
const seen = new Map();
const shown = new Map();
function render(m) {
  // Unchanged messages stay as they are (a half-typed deny reason keeps its text and focus).
  const key = JSON.stringify(m);
  if (shown.get(m.id) === key) return;
  shown.set(m.id, key);
  let el = seen.get(m.id);
  if (!el) { el = document.createElement('div'); el.dataset.id = m.id; seen.set(m.id, el); list.appendChild(el); }
  el.className = 'msg ' + m.kind;
  el.dataset.testid = 'message';
  el.replaceChildren();
  const who = document.createElement('span'); who.className = 'who'; who.textContent = m.author; el.appendChild(who);
  const link = m.kind === 'bot' && typeof m.link === 'string' && /^https?:\\/\\//.test(m.link) ? m.link : '';
  const parts = link ? m.text.split(link) : [m.text];
  parts.forEach((part, i) => {
    if (i > 0) {
      const a = document.createElement('a'); a.href = link; a.textContent = link; a.rel = 'noreferrer'; a.dataset.testid = 'link';
      if (typeof m.opens === 'string' && /^#h-[0-9a-f]{4}$/.test(m.opens)) a.addEventListener('click', () => opened(m.opens));
      el.appendChild(a);
    }
    el.appendChild(document.createTextNode(part));
  });
  if (m.kind === 'bot' && typeof m.decide === 'string' && /^#h-[0-9a-f]{4}$/.test(m.decide)) {
    const bar = document.createElement('div'); bar.className = 'decide';
    const yes = document.createElement('button'); yes.textContent = 'Approve'; yes.dataset.testid = 'approve';
    const reason = document.createElement('input'); reason.placeholder = 'reason (optional)'; reason.maxLength = 500; reason.dataset.testid = 'deny-reason';
    const no = document.createElement('button'); no.textContent = 'Deny'; no.dataset.testid = 'deny';
    yes.addEventListener('click', () => send(m.decide + ' approve'));
    no.addEventListener('click', () => send((m.decide + ' deny ' + reason.value).trim()));
    bar.append(yes, ' ', no, ' ', reason); el.appendChild(bar);
  }
  if (m.reactions.length) { const r = document.createElement('span'); r.className = 'muted'; r.textContent = '  ' + m.reactions.join(' '); el.appendChild(r); }
}
async function refresh() {
  try {
    const res = await fetch('/v1/threads/local/' + encodeURIComponent(name) + '/messages');
    const body = await res.json();
    for (const m of body.messages) render(m);
  } catch (e) { /* the bridge may be restarting; try again */ }
}
setInterval(refresh, 700); refresh();
// A login link opened: the bridge asks the service sooner (keepalive: the page may be leaving).
function opened(tag) {
  fetch('/v1/threads/local/' + encodeURIComponent(name) + '/opened', {
    method: 'POST', headers: { 'content-type': 'application/json' }, keepalive: true, body: JSON.stringify({ tag }),
  }).catch(() => {});
}
const author = document.getElementById('author');
author.value = localStorage.getItem('handoff-author') || 'you';
// Replies and the approval buttons post the same way, as the viewer named in "Reply as".
async function send(value) {
  localStorage.setItem('handoff-author', author.value);
  const res = await fetch('/v1/threads/local/' + encodeURIComponent(name) + '/messages', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ author: author.value, text: value }),
  });
  const status = document.getElementById('status');
  if (res.ok) { status.textContent = ''; refresh(); return true; }
  const b = await res.json().catch(() => ({})); status.textContent = (b.error && b.error.message) || ('Error ' + res.status);
  return false;
}
document.getElementById('reply').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = document.getElementById('text');
  if (await send(text.value)) text.value = '';
});`;
  return htmlPage(
    `local:${name}`,
    `<h1>Thread <code>local:${escapeHtml(name)}</code></h1>
<p class="muted">A local thread on this bridge. Agents post approval requests here; reply below as the approver.</p>
<div id="messages" data-testid="messages"></div>
<form id="reply" class="card">
<label>Reply as <input id="author" data-testid="author" maxlength="64"></label>
<p><textarea id="text" data-testid="reply-text" rows="3" placeholder="Paste the finish code here" required></textarea></p>
<button class="primary" data-testid="send">Send</button> <span id="status" class="muted" data-testid="status"></span>
</form>`,
    { script },
  );
}

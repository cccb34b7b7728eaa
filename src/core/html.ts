/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A minimal, self-contained page shell (no external assets, strict CSP-friendly). */
export function htmlPage(title: string, body: string, options: { script?: string } = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
code,pre{font:13px ui-monospace,monospace;background:#f3f3f5;padding:.1rem .3rem;border-radius:4px}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
button{font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}
button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}
input,textarea{font:inherit;padding:.4rem;border:1px solid #aaa;border-radius:6px;width:100%;box-sizing:border-box}
.muted{color:#666;font-size:13px}
.msg{border-bottom:1px solid #eee;padding:.5rem 0;white-space:pre-wrap;word-break:break-word}
.msg .who{font-weight:600;margin-right:.5rem}
.msg.bot .who{color:#1f6feb}
</style></head><body>
${body}
${options.script ? `<script>${options.script}</script>` : ''}
</body></html>`;
}

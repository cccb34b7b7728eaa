import { describe, expect, it } from 'vitest';
import {
  extractAnswers,
  mentionsLink,
  normaliseReplyText,
  pickAnswer,
  type ExtractedAnswers,
} from '../../src/core/finish-code.js';

// Two well-formed finish codes (docs/protocols.md, "Agent sessions": `aae_` + 48 lowercase hex).
const hex = '3f9a0c1de27b4a58961c0e2fd4b7a3e1c5d8f0a2b4c6e8d1';
const hexB = '0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a';
const code = `aae_${hex}`;
const codeB = `aae_${hexB}`;
// A code whose hex starts with six digits: those digits must not count as a one-time code.
const digitsCode = `aae_123456${hex.slice(6)}`;

interface Row {
  readonly text: string;
  readonly finishCodes?: readonly string[];
  readonly oneTimeCodes?: readonly string[];
  readonly saysDone?: boolean;
}

const expected = (row: Row): ExtractedAnswers => ({
  finishCodes: row.finishCodes ?? [],
  oneTimeCodes: row.oneTimeCodes ?? [],
  saysDone: row.saysDone ?? false,
});

describe('extractAnswers on replies people actually paste', () => {
  const rows: Row[] = [
    // Finish codes in the shapes chat clients and copy buttons produce.
    { text: code, finishCodes: [code] },
    { text: `\`${code}\``, finishCodes: [code] },
    { text: `\`\`\`\n${code}\n\`\`\``, finishCodes: [code] },
    { text: `\`\`\`text\n${code}\n\`\`\`\nthere you go`, finishCodes: [code] },
    { text: `"${code}"`, finishCodes: [code] },
    { text: `> ${code}`, finishCodes: [code] },
    { text: `Agent Analytics finish code: ${code}`, finishCodes: [code] },
    { text: `Agent Analytics finish code:\n\n${code}\n\nYou can close this window.`, finishCodes: [code] },
    { text: `here you go: ${code}.`, finishCodes: [code] },
    { text: `${code}, thanks!`, finishCodes: [code] },
    { text: `got it!! ${code}!`, finishCodes: [code] },
    { text: `(code was ${code})`, finishCodes: [code] },
    { text: `*${code}*`, finishCodes: [code] },
    { text: `${code.slice(0, 12)}\u200B${code.slice(12)}`, finishCodes: [code] },
    { text: `\u200B${code}\u200B`, finishCodes: [code] },
    { text: `${code.slice(0, 30)}\u00AD${code.slice(30)}`, finishCodes: [code] },
    { text: `\uFEFF${code}\u2060`, finishCodes: [code] },
    { text: `ａａｅ＿${hex}`, finishCodes: [code] },
    { text: `aae_${[...hex].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('')}`, finishCodes: [code] },
    { text: `aae_${hex.toUpperCase()}`, finishCodes: [code] },
    { text: `AAE_${hex}`, finishCodes: [code] },
    { text: `<https://analytics.example/finish?code=${code}|finish page>`, finishCodes: [code] },
    { text: `<https://analytics.example/finish?code=${code}&amp;src=slack>`, finishCodes: [code] },
    { text: `code=${code}&amp;state=ok`, finishCodes: [code] },
    { text: digitsCode, finishCodes: [digitsCode] },
    // Two different codes: both reported (pickAnswer must refuse to guess).
    { text: `${code}\noops wrong one, this: ${codeB}`, finishCodes: [code, codeB] },
    // The same code twice is one code.
    { text: `${code} (again: \`${code}\`)`, finishCodes: [code] },
    { text: `${code} ${code.toUpperCase().replace('AAE_', 'aae_')}`, finishCodes: [code] },
    // Almost codes.
    { text: `aae_${hex.slice(0, 47)}` },
    { text: `aae_${hex}0` },
    { text: `xaae_${hex}` },
    { text: `${code}x` },
    { text: `${code}_v2` },
    { text: `aae-${hex}` },
    { text: `aae_${hex.slice(0, 47)}g` },
    { text: hex },
    // Six-digit one-time codes.
    { text: '123456', oneTimeCodes: ['123456'] },
    { text: '123 456', oneTimeCodes: ['123456'] },
    { text: '123-456', oneTimeCodes: ['123456'] },
    { text: 'code is 654321.', oneTimeCodes: ['654321'] },
    { text: 'Code: 482913', oneTimeCodes: ['482913'] },
    { text: 'it says 482913!', oneTimeCodes: ['482913'] },
    { text: '`482913`', oneTimeCodes: ['482913'] },
    { text: '*482913*', oneTimeCodes: ['482913'] },
    { text: '(482913)', oneTimeCodes: ['482913'] },
    { text: '482913, thanks', oneTimeCodes: ['482913'] },
    { text: 'the email says 482 913 - sorry for the delay', oneTimeCodes: ['482913'] },
    { text: '４８２９１３', oneTimeCodes: ['482913'] },
    { text: '482913\n482913', oneTimeCodes: ['482913'] },
    { text: '482913 or maybe 913482', oneTimeCodes: ['482913', '913482'] },
    // Numbers that are not one-time codes.
    { text: 'call me on 555-123-4567 if it breaks' },
    { text: 'call me on 555 123 4567 if it breaks' },
    { text: 'my number is (555) 123-4567' },
    { text: '+1 555 123 4567' },
    { text: '555.123.4567' },
    { text: '<tel:5551234567|555 123 4567>' },
    { text: 'this is blocked on #123456' },
    { text: 'see ENG-123456 first' },
    { text: 'the invoice was $123456' },
    { text: 'we spent €123456 on this' },
    { text: 'revenue was 123456.78 last month' },
    { text: 'total 10,123,456 events' },
    { text: 'https://github.com/acme/app/pull/123456' },
    { text: 'see <https://linear.app/acme/issue/ENG-1/x?id=123456|ENG-1>' },
    { text: 'www.example.com/orders/123456' },
    { text: 'order 1234567' },
    { text: 'ticket 12345' },
    { text: 'approved on 2024-01-15 at 12:34:56' },
    { text: '15/01/2024' },
    { text: 'build v1.123456' },
    { text: 'ping ops@123456.example' },
    // "Done" in its short forms…
    { text: 'done', saysDone: true },
    { text: 'Done!', saysDone: true },
    { text: 'Done.', saysDone: true },
    { text: 'DONE', saysDone: true },
    { text: 'approved ✅', saysDone: true },
    { text: '✅ done', saysDone: true },
    { text: 'done 👍', saysDone: true },
    { text: 'ok done', saysDone: true },
    { text: 'ok, done!', saysDone: true },
    { text: 'okay all done', saysDone: true },
    { text: 'yep, approved it', saysDone: true },
    { text: "I've approved it", saysDone: true },
    { text: 'I’ve approved it', saysDone: true },
    { text: 'i have approved it', saysDone: true },
    { text: "I'm done", saysDone: true },
    { text: 'all set', saysDone: true },
    { text: 'finished', saysDone: true },
    { text: 'completed', saysDone: true },
    { text: '*done*', saysDone: true },
    { text: '> done', saysDone: true },
    { text: 'done now', saysDone: true },
    // …but not sentences that merely contain the word.
    { text: 'not done' },
    { text: 'done?' },
    { text: 'is it done?' },
    { text: 'I am not done yet' },
    { text: 'undone' },
    { text: 'Done with lunch, will approve after standup' },
    { text: "we're done with the migration, but can you check the dashboard before approving?" },
    { text: 'approved the PR, will look at the login later' },
    { text: 'once this is done I will approve' },
    { text: 'the deploy is all set but I have not clicked approve' },
  ];

  it('has a table of at least 40 replies', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
  });

  it.each(rows)('$text', (row) => {
    expect(extractAnswers(row.text)).toEqual(expected(row));
  });
});

describe('pickAnswer', () => {
  it.each([
    { text: `Agent Analytics finish code: ${code}.`, kind: 'finish_code', answer: code },
    { text: `aae_${hex.toUpperCase()}`, kind: 'finish_code', answer: code },
    { text: `${code} ${code}`, kind: 'finish_code', answer: code },
    { text: `${code}\n${codeB}`, kind: 'finish_code', answer: undefined },
    { text: `aae_${hex.slice(0, 47)}`, kind: 'finish_code', answer: undefined },
    { text: 'done', kind: 'finish_code', answer: undefined },
    { text: 'code is 654321.', kind: 'email_code', answer: '654321' },
    { text: '654 321', kind: 'email_code', answer: '654321' },
    { text: '654321 and 123456', kind: 'email_code', answer: undefined },
    { text: 'call 555 123 4567', kind: 'email_code', answer: undefined },
    { text: code, kind: 'email_code', answer: undefined },
    { text: digitsCode, kind: 'email_code', answer: undefined },
    { text: 'Done!', kind: 'done', answer: 'done' },
    { text: "I've approved it", kind: 'done', answer: 'done' },
    { text: 'done with lunch, approving after standup', kind: 'done', answer: undefined },
    { text: '654321', kind: 'done', answer: undefined },
    // Other services' prefixed finish codes (auth.md browser claims): case kept, URLs ignored.
    {
      text: 'acf_3f9a0c1de27b4a58961c0e2fd4b7a3e1',
      kind: 'finish_code',
      answer: 'acf_3f9a0c1de27b4a58961c0e2fd4b7a3e1',
    },
    { text: 'finish code: `fc_AbC123dEf456GhI789jKl`.', kind: 'finish_code', answer: 'fc_AbC123dEf456GhI789jKl' },
    {
      text: 'acf_3f9a0c1de27b4a58961c0e2fd4b7a3e1 or acf_0000000000000000000000000000000f',
      kind: 'finish_code',
      answer: undefined,
    },
    { text: 'https://svc.example/claim/reg_0123456789abcdef0123', kind: 'finish_code', answer: undefined },
    { text: `aae_${hex.slice(0, 47)} (sorry, cut off)`, kind: 'finish_code', answer: undefined },
    { text: `${code} acf_3f9a0c1de27b4a58961c0e2fd4b7a3e1`, kind: 'finish_code', answer: code },
    { text: 'acf_short', kind: 'finish_code', answer: undefined },
    { text: 'acf_3f9a0c1de27b4a58961c0e2fd4b7a3e1', kind: 'email_code', answer: undefined },
  ] as const)('$kind from "$text" → $answer', ({ text, kind, answer }) => {
    expect(pickAnswer(text, kind)).toBe(answer);
  });
});

describe('mentionsLink', () => {
  const url = 'https://bridge.example.com/sandbox/approve/ar_7f3a9c21b4e8';

  it.each([
    { text: url, mentions: true },
    { text: `I opened ${url} but it says expired`, mentions: true },
    { text: `<${url}>`, mentions: true },
    { text: `<${url}|approve>`, mentions: true },
    { text: 'bridge.example.com/sandbox/approve/ar_7f3a9c21b4e8', mentions: true },
    { text: 'http://bridge.example.com/sandbox/approve/ar_7f3a9c21b4e8', mentions: true },
    { text: `\`${url}\``, mentions: true },
    { text: 'https://bridge.example.com/sandbox/approve/ar_0000000000ff', mentions: false },
    { text: 'https://bridge.example.com/sandbox/approve/', mentions: false },
    { text: 'done', mentions: false },
  ])('"$text" → $mentions', ({ text, mentions }) => {
    expect(mentionsLink(text, url)).toBe(mentions);
  });

  it('matches a link with a query string that Slack sent with &amp;', () => {
    const withQuery = 'https://bridge.example.com/approve?id=ar_1&step=2';
    expect(mentionsLink('<https://bridge.example.com/approve?id=ar_1&amp;step=2|link>', withQuery)).toBe(true);
    expect(mentionsLink('<https://bridge.example.com/approve?id=ar_1&amp;step=3|link>', withQuery)).toBe(false);
  });
});

describe('normaliseReplyText', () => {
  it.each([
    { raw: '<https://a.example/x|label>', text: 'https://a.example/x' },
    { raw: '<https://a.example/x>', text: 'https://a.example/x' },
    { raw: '<mailto:ann@example.com|ann@example.com>', text: 'mailto:ann@example.com' },
    { raw: 'a &lt;b&gt; &amp; c', text: 'a <b> & c' },
    { raw: 'co\u200Bde\u00AD', text: 'code' },
    { raw: 'ＡＢＣ１２３', text: 'ABC123' },
    { raw: '<@U012ABC> done', text: '<@U012ABC> done' },
  ])('$raw → $text', ({ raw, text }) => {
    expect(normaliseReplyText(raw)).toBe(text);
  });
});

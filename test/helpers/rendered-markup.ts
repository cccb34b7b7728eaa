import type { Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';

/**
 * What a rendered message really holds, read back with real parsers: GitHub-flavoured markdown
 * through micromark + mdast (the parser family GitHub's own cmark-gfm follows: CommonMark and
 * the GFM extensions — tables, autolink literals, strikethrough, task lists, footnotes), and
 * Slack mrkdwn through a tokenizer of the only syntax Slack acts on: `<…>` sequences and the
 * three entities. Used by the property test and the security tests.
 */

export interface MarkdownFacts {
  readonly tree: Root;
  /** Block types at the top level, in order (paragraph, heading, html, list, table…). */
  readonly blocks: readonly string[];
  /** Every link destination: links, autolinks (www., http://, emails), references and definitions. */
  readonly links: readonly string[];
  /** Every image source, markdown or reference. */
  readonly images: readonly string[];
  /** Raw HTML fragments. */
  readonly html: readonly string[];
  /** Headings' depths. */
  readonly headings: readonly number[];
  /** Block structure a sentence must never create. */
  readonly structure: readonly string[];
  /** Text that markdown leaves as text (not code), where GitHub's mention and reference filters run. */
  readonly text: string;
  /** Contents of inline code spans. */
  readonly code: readonly string[];
}

const structural = new Set([
  'list',
  'listItem',
  'blockquote',
  'table',
  'code',
  'thematicBreak',
  'footnoteDefinition',
  'footnoteReference',
  'definition',
]);

export function readMarkdown(source: string): MarkdownFacts {
  const tree = fromMarkdown(source, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  const facts = {
    links: [] as string[],
    images: [] as string[],
    html: [] as string[],
    headings: [] as number[],
    structure: [] as string[],
    text: [] as string[],
    code: [] as string[],
  };
  const walk = (node: Nodes): void => {
    switch (node.type) {
      case 'link':
        facts.links.push(node.url);
        break;
      case 'linkReference':
        facts.links.push(`[ref:${node.identifier}]`);
        break;
      case 'definition':
        facts.links.push(node.url);
        break;
      case 'image':
        facts.images.push(node.url);
        break;
      case 'imageReference':
        facts.images.push(`[ref:${node.identifier}]`);
        break;
      case 'html':
        facts.html.push(node.value);
        break;
      case 'heading':
        facts.headings.push(node.depth);
        break;
      case 'text':
        facts.text.push(node.value);
        break;
      case 'inlineCode':
        facts.code.push(node.value);
        break;
    }
    if (structural.has(node.type)) facts.structure.push(node.type);
    if ('children' in node) for (const child of node.children as Nodes[]) walk(child);
  };
  walk(tree);
  return { tree, blocks: tree.children.map((c) => c.type), ...facts, text: facts.text.join('\n') };
}

/**
 * What GitHub would turn into notifications or links in rendered text (its filters skip code
 * and links): @user and @org/team mentions, #123, GH-123 and owner/repo#123 references.
 */
export function githubMentions(text: string): string[] {
  return [...text.matchAll(/(?<![A-Za-z0-9`])@([A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*)?)/g)].map(
    (m) => m[1]!,
  );
}

export function githubReferences(text: string): string[] {
  return [...text.matchAll(/(?:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)?#\d+|(?<![@\w-])GH-\d+/g)].map((m) => m[0]);
}

export interface MrkdwnFacts {
  /** Inner text of every `<…>` Slack would act on (mentions, links, specials, dates). */
  readonly tokens: readonly string[];
  /** A `<` or `>` outside a token (Slack would show it, or worse, pair it with another). */
  readonly strayBrackets: boolean;
  /** An `&` that does not start `&amp;`, `&lt;` or `&gt;`. */
  readonly strayAmpersand: boolean;
}

export function readMrkdwn(text: string): MrkdwnFacts {
  const tokens: string[] = [];
  const rest = text.replace(/<([^<>]*)>/g, (_, inner: string) => {
    tokens.push(inner);
    return '';
  });
  return { tokens, strayBrackets: /[<>]/.test(rest), strayAmpersand: /&(?!amp;|lt;|gt;)/.test(rest) };
}

/** Every text object in a Block Kit layout, with its type and verbatim flag. */
export function slackTextObjects(node: unknown): Array<{ type: string; text: string; verbatim?: boolean }> {
  if (Array.isArray(node)) return node.flatMap(slackTextObjects);
  if (typeof node !== 'object' || node === null) return [];
  const obj = node as Record<string, unknown>;
  const own =
    (obj.type === 'mrkdwn' || obj.type === 'plain_text') && typeof obj.text === 'string'
      ? [obj as { type: string; text: string; verbatim?: boolean }]
      : [];
  return [
    ...own,
    ...Object.entries(obj).flatMap(([key, value]) =>
      key === 'text' && typeof value === 'string' ? [] : slackTextObjects(value),
    ),
  ];
}

/** Values of a key anywhere in a Block Kit layout (button `url`s, `image_url`s). */
export function slackValues(node: unknown, key: string): string[] {
  if (Array.isArray(node)) return node.flatMap((n) => slackValues(n, key));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([k, v]) => (k === key && typeof v === 'string' ? [v] : slackValues(v, key)));
}

/** Characters no message may carry: controls (newline aside), bidi and invisible format characters, lone surrogates. */
export const forbiddenCharacters =
  /[\p{Cc}\p{Cf}\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

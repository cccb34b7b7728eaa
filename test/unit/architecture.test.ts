import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rules of STYLE.md ("What that means here"), checked against the source tree.
 * The checker is a pure function over a map of files so that it can also be shown to catch a
 * planted violation of every rule.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sourceExtension = /\.(?:[cm]?[jt]s|tsx)$/;
const maxLines = 500;

/** Repo-relative posix path → file text. */
type SourceTree = ReadonlyMap<string, string>;

interface Import {
  readonly file: string;
  readonly specifier: string;
  /** Repo-relative path (extension dropped) for relative specifiers; undefined for packages. */
  readonly target: string | undefined;
}

function readTree(dirs: readonly string[]): SourceTree {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (sourceExtension.test(entry.name)) files.set(path, readFileSync(join(repoRoot, path), 'utf8'));
    }
  };
  for (const dir of dirs) walk(dir);
  return files;
}

const withoutExtension = (path: string) => path.replace(sourceExtension, '');

/** `from '…'`, `import('…')` and side-effect `import '…'`, outside comments. */
function importsOf(file: string, text: string): Import[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  return [...code.matchAll(pattern)].map((m) => {
    const specifier = m[1]!;
    const target = specifier.startsWith('.')
      ? withoutExtension(posix.normalize(posix.join(posix.dirname(file), specifier)))
      : undefined;
    return { file, specifier, target };
  });
}

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Concrete login protocols: modules in src/login that export a `create…Protocol` factory. */
function protocolModules(tree: SourceTree): string[] {
  return [...tree]
    .filter(
      ([path, text]) => under(path, 'src/login') && /export\s+(?:async\s+)?function\s+create\w*Protocol\b/.test(text),
    )
    .map(([path]) => withoutExtension(path));
}

const sdkHomes: ReadonlyArray<readonly [prefix: string, home: string]> = [
  ['@slack/', 'adapters/slack'],
  ['@octokit/', 'adapters/github'],
  ['@linear/sdk', 'adapters/linear'],
];
const bullmqHomes = ['src/queue', 'src/client', 'src/app'];
const mayKnowConcretes = new Set(['src/main.ts']);

type Rule = 'core' | 'adapters' | 'sdks' | 'bullmq' | 'concretes' | 'size';

/** Every rule's violations, as readable lines. */
function checkArchitecture(tree: SourceTree): Record<Rule, string[]> {
  const v: Record<Rule, string[]> = { core: [], adapters: [], sdks: [], bullmq: [], concretes: [], size: [] };
  const protocols = new Set(protocolModules(tree));
  for (const [file, text] of tree) {
    const adapter = /^adapters\/([^/]+)\//.exec(file)?.[1];
    for (const imp of importsOf(file, text)) {
      const line = `${file} imports '${imp.specifier}'`;
      const pkg = imp.target === undefined ? packageOf(imp.specifier) : undefined;

      if (under(file, 'src/core')) {
        const ok = imp.target !== undefined ? under(imp.target, 'src/core') : pkg!.startsWith('node:') || pkg === 'zod';
        if (!ok) v.core.push(line);
      }
      if (adapter !== undefined && imp.target !== undefined) {
        if (under(imp.target, 'src') && !under(imp.target, 'src/core')) v.adapters.push(line);
        if (under(imp.target, 'adapters') && !under(imp.target, `adapters/${adapter}`)) v.adapters.push(line);
      }
      for (const [prefix, home] of sdkHomes) {
        if (imp.specifier.startsWith(prefix) && !under(file, home)) v.sdks.push(line);
      }
      if (pkg === 'bullmq' && under(file, 'src') && !bullmqHomes.some((home) => under(file, home))) v.bullmq.push(line);
      if (imp.target !== undefined && !mayKnowConcretes.has(file)) {
        const intoAdapters = under(imp.target, 'adapters') && adapter === undefined;
        if (intoAdapters || protocols.has(imp.target)) v.concretes.push(line);
      }
    }
    if (under(file, 'src') || under(file, 'adapters')) {
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      if (lines > maxLines) v.size.push(`${file} has ${lines} lines (limit ${maxLines})`);
    }
  }
  return v;
}

describe('architecture of the source tree', () => {
  // test/, bench/ and examples/ may use anything; bin/ is checked like src/.
  const tree = readTree(['src', 'adapters', 'bin']);
  const violations = checkArchitecture(tree);

  it('reads the whole tree and parses its imports', () => {
    expect(tree.size).toBeGreaterThan(50);
    expect(tree.has('src/main.ts')).toBe(true);
    const all = [...tree].flatMap(([file, text]) => importsOf(file, text));
    expect(all.length).toBeGreaterThan(200);
    // A multi-line `import type { … } from` and a dynamic import are both seen.
    expect(all).toContainEqual({
      file: 'src/login/agent-sessions.ts',
      specifier: '../core/login-protocol.js',
      target: 'src/core/login-protocol',
    });
    expect(all).toContainEqual({ file: 'bin/handoff.js', specifier: '../src/main.ts', target: 'src/main' });
  });

  it('recognises the concrete protocols', () => {
    expect(protocolModules(tree)).toEqual(
      expect.arrayContaining(['src/login/agent-sessions', 'src/login/authmd', 'src/login/device']),
    );
  });

  it('src/core imports only src/core, node: builtins and zod', () => {
    expect(violations.core).toEqual([]);
  });

  it('adapters import only src/core and their own folder from this repo', () => {
    expect(violations.adapters).toEqual([]);
  });

  it('platform SDKs are imported only in their adapter', () => {
    expect(violations.sdks).toEqual([]);
  });

  it('bullmq is imported only in src/queue, src/app and src/client', () => {
    expect(violations.bullmq).toEqual([]);
  });

  it('only src/main.ts imports adapters and concrete protocols', () => {
    expect(violations.concretes).toEqual([]);
  });

  it(`no source file in src/ or adapters/ exceeds ${maxLines} lines`, () => {
    expect(violations.size).toEqual([]);
  });
});

describe('the architecture checker catches planted violations', () => {
  const planted: SourceTree = new Map([
    [
      'src/core/bad-core.ts',
      "import { Redis } from 'ioredis';\nimport { x } from '../engine/x.js';\nimport { y } from './y.js';\nimport { z } from 'zod';\nimport { readFile } from 'node:fs/promises';\n",
    ],
    ['src/core/y.ts', '// import { no } from "../engine/commented-out.js";\nexport const y = 1;\n'],
    [
      'adapters/slack/slack-adapter.ts',
      "import { App } from '@slack/bolt';\nimport type {\n  A,\n} from '../../src/engine/ports.js';\nimport { k } from '../../src/core/errors.js';\nimport { g } from '../github/x.js';\n",
    ],
    [
      'src/engine/uses-slack.ts',
      "import type { WebClient } from '@slack/web-api';\nconst m = await import('@octokit/rest');\n",
    ],
    ['src/engine/uses-linear.ts', "export { LinearClient } from '@linear/sdk';\n"],
    ['src/engine/queue-user.ts', "import { Queue } from 'bullmq';\n"],
    ['src/queue/fine.ts', "import { Queue } from 'bullmq';\n"],
    [
      'src/app/fine.ts',
      "import { Worker } from 'bullmq';\nimport { createAgentSessionsProtocol } from '../login/agent-sessions.js';\n",
    ],
    ['src/login/agent-sessions.ts', 'export function createAgentSessionsProtocol() {}\n'],
    ['src/http/knows-adapter.ts', "import { parseLocalThread } from '../../adapters/local/local-thread.js';\n"],
    [
      'src/main.ts',
      "import { createLocalPlatform } from '../adapters/local/index.js';\nimport { createAgentSessionsProtocol } from './login/agent-sessions.js';\n",
    ],
    ['adapters/local/huge.ts', 'export const a = 1;\n'.repeat(maxLines + 1)],
    ['adapters/local/limit.ts', 'export const a = 1;\n'.repeat(maxLines)],
  ]);
  const v = checkArchitecture(planted);

  it('flags core importing outside core, and nothing it may import', () => {
    expect(v.core).toEqual(["src/core/bad-core.ts imports 'ioredis'", "src/core/bad-core.ts imports '../engine/x.js'"]);
  });

  it('flags an adapter importing src/ beyond core, or another adapter', () => {
    expect(v.adapters).toEqual([
      "adapters/slack/slack-adapter.ts imports '../../src/engine/ports.js'",
      "adapters/slack/slack-adapter.ts imports '../github/x.js'",
    ]);
  });

  it('flags SDKs outside their adapter, including dynamic imports and re-exports', () => {
    expect(v.sdks).toEqual([
      "src/engine/uses-slack.ts imports '@slack/web-api'",
      "src/engine/uses-slack.ts imports '@octokit/rest'",
      "src/engine/uses-linear.ts imports '@linear/sdk'",
    ]);
  });

  it('flags bullmq outside its homes', () => {
    expect(v.bullmq).toEqual(["src/engine/queue-user.ts imports 'bullmq'"]);
  });

  it('flags adapters and concrete protocols imported anywhere but src/main.ts', () => {
    expect(v.concretes).toEqual([
      "src/app/fine.ts imports '../login/agent-sessions.js'",
      "src/http/knows-adapter.ts imports '../../adapters/local/local-thread.js'",
    ]);
  });

  it(`flags a file over ${maxLines} lines and not one at the limit`, () => {
    expect(v.size).toEqual([`adapters/local/huge.ts has ${maxLines + 1} lines (limit ${maxLines})`]);
  });

  it('resolves paths relative to the importing file', () => {
    expect(importsOf('adapters/local/a.ts', "import x from '../../src/core/errors.js';")[0]?.target).toBe(
      'src/core/errors',
    );
    expect(importsOf('src/main.ts', "import x from '../adapters/local/index.js';")[0]?.target).toBe(
      'adapters/local/index',
    );
    expect(importsOf('src/a/b.ts', "import x from 'node:fs';")[0]?.target).toBeUndefined();
  });
});

/**
 * The layer order (issue #12): each layer of src/ imports only the layers below it, never a
 * sibling or anything above. `src/main.ts` (and bin/) sit on top. `src/client` is what agents
 * import: from src/ it takes only core, whose `src/core/wire.ts` holds the wire types it shares
 * with src/http. Adapters import only core (the rules above). A folder of src/ that is in no
 * layer is reported too, so a new one has to be placed.
 */
const layerOrder: ReadonlyArray<readonly string[]> = [
  ['src/core'],
  ['src/store', 'src/login'],
  ['src/engine'],
  ['src/queue'],
  ['src/http'],
  ['src/app'],
  ['src/main.ts'],
];
/** Beside the order: what each may import from src/, and who may import it. */
const sideLayers: Readonly<Record<string, { imports: readonly string[]; importedBy: readonly string[] }>> = {
  // What agents import: the wire types and the pure core, nothing of the server.
  'src/client': { imports: ['src/core'], importedBy: [] },
  // The local test service: speaks the login protocols, mounted by main only.
  'src/sandbox': { imports: ['src/core', 'src/login'], importedBy: ['src/main.ts'] },
};

type LayerRule = 'order' | 'client' | 'placed';

function layerOf(file: string): string | undefined {
  return [...layerOrder.flat(), ...Object.keys(sideLayers)].find((layer) => under(file, layer));
}
const rankOf = (layer: string) => layerOrder.findIndex((rank) => rank.includes(layer));

/** Violations of the layer order, as readable lines. */
function checkLayers(tree: SourceTree): Record<LayerRule, string[]> {
  const v: Record<LayerRule, string[]> = { order: [], client: [], placed: [] };
  for (const [file, text] of tree) {
    if (!under(file, 'src')) continue;
    const from = layerOf(file);
    if (from === undefined) {
      v.placed.push(`${file} is in no layer`);
      continue;
    }
    for (const imp of importsOf(file, text)) {
      if (imp.target === undefined || !under(imp.target, 'src')) continue;
      const to = layerOf(`${imp.target}.ts`) ?? layerOf(imp.target);
      if (to === undefined || to === from) continue;
      const line = `${file} (${from}) imports '${imp.specifier}' (${to})`;
      if (from === 'src/client') {
        if (!sideLayers[from]!.imports.includes(to)) v.client.push(line);
        continue;
      }
      const side = sideLayers[from];
      const ok = side
        ? side.imports.includes(to)
        : sideLayers[to]
          ? sideLayers[to].importedBy.includes(from)
          : rankOf(to) < rankOf(from);
      if (!ok) v.order.push(line);
    }
  }
  return v;
}

describe('the layer order: core ← store, login ← engine ← queue ← http ← app ← main', () => {
  const tree = readTree(['src', 'adapters', 'bin']);
  const violations = checkLayers(tree);

  it('every folder of src/ is in a layer', () => {
    expect(violations.placed).toEqual([]);
  });

  it('each layer imports only the layers below it', () => {
    expect(violations.order).toEqual([]);
  });

  it('src/client imports only core (the wire types are src/core/wire.ts)', () => {
    expect(violations.client).toEqual([]);
    const clientImports = [...tree]
      .filter(([file]) => under(file, 'src/client'))
      .flatMap(([file, text]) => importsOf(file, text));
    expect(clientImports.map((i) => i.target)).toContain('src/core/wire');
  });

  describe('catches planted violations', () => {
    const planted: SourceTree = new Map([
      // Upward, one step and several.
      ['src/store/up.ts', "import { x } from '../engine/x.js';\nimport { c } from '../core/errors.js';\n"],
      ['src/engine/up.ts', "import type { Q } from '../queue/queues.js';\nimport { s } from '../store/keys.js';\n"],
      ['src/queue/up.ts', "import { h } from '../http/router.js';\nimport { e } from '../engine/driver.js';\n"],
      [
        'src/http/up.ts',
        "import { b } from '../app/bridge.js';\nimport type { M } from '../queue/queue-metrics.js';\n",
      ],
      ['src/app/up.ts', "import { serve } from '../main.js';\nimport { r } from '../http/router.js';\n"],
      // Siblings: store and login stand side by side on core.
      ['src/login/sibling.ts', "import { k } from '../store/keys.js';\n"],
      // The client reaching into the server, statically and dynamically; core is fine.
      [
        'src/client/leaky.ts',
        "import type { HandoffView } from '../engine/handoff-view.js';\nconst r = await import('../http/event-routes.js');\nimport type { FeedPageView } from '../core/wire.js';\n",
      ],
      // Nobody but main mounts the sandbox; the sandbox takes no store.
      ['src/http/mounts.ts', "import { mountSandbox } from '../sandbox/index.js';\n"],
      ['src/sandbox/state.ts', "import { k } from '../store/keys.js';\nimport { p } from '../login/pkce.js';\n"],
      [
        'src/main.ts',
        "import { mountSandbox } from './sandbox/index.js';\nimport { startBridge } from './app/bridge.js';\n",
      ],
      // A new folder that no layer holds.
      ['src/wire/types.ts', 'export type T = 1;\n'],
    ]);
    const v = checkLayers(planted);

    it('flags every upward or sideways import, and none that goes down', () => {
      expect(v.order).toEqual([
        "src/store/up.ts (src/store) imports '../engine/x.js' (src/engine)",
        "src/engine/up.ts (src/engine) imports '../queue/queues.js' (src/queue)",
        "src/queue/up.ts (src/queue) imports '../http/router.js' (src/http)",
        "src/http/up.ts (src/http) imports '../app/bridge.js' (src/app)",
        "src/app/up.ts (src/app) imports '../main.js' (src/main.ts)",
        "src/login/sibling.ts (src/login) imports '../store/keys.js' (src/store)",
        "src/http/mounts.ts (src/http) imports '../sandbox/index.js' (src/sandbox)",
        "src/sandbox/state.ts (src/sandbox) imports '../store/keys.js' (src/store)",
      ]);
    });

    it('flags the client importing anything of the server', () => {
      expect(v.client).toEqual([
        "src/client/leaky.ts (src/client) imports '../engine/handoff-view.js' (src/engine)",
        "src/client/leaky.ts (src/client) imports '../http/event-routes.js' (src/http)",
      ]);
    });

    it('flags a folder in no layer', () => {
      expect(v.placed).toEqual(['src/wire/types.ts is in no layer']);
    });
  });
});

/**
 * "A platform is one folder": nothing under src/ names a platform that has an adapter folder,
 * in code, strings or comments, in any case. src/main.ts lists the platforms (its one array) and
 * is the exception. `local` is not checked: the built-in platform's name is an everyday word.
 * A few tokens of other vocabularies merely contain a name and are allowed, each for its reason.
 */
const platformNameExceptions: ReadonlyArray<readonly [token: string, why: string]> = [
  ['github_login', 'a field of the agent-sessions account object (the sandbox answers it)'],
  ['github_oauth', 'an auth.md claim method (the sandbox offers it)'],
  ["'github.io'", 'a shared-hosting public suffix in src/core/same-site.ts'],
];

/** Platforms with a folder under adapters/ (from the tree), except the built-in `local`. */
function namedPlatforms(tree: SourceTree): string[] {
  const names = new Set([...tree.keys()].flatMap((path) => /^adapters\/([^/]+)\//.exec(path)?.[1] ?? []));
  names.delete('local');
  return [...names].sort();
}

/** Every line under src/ (but src/main.ts) that names one of `platforms`, as `file:line names 'x'`. */
function platformNamesInSrc(tree: SourceTree, platforms: readonly string[]): string[] {
  const found: string[] = [];
  for (const [file, text] of tree) {
    if (!under(file, 'src') || mayKnowConcretes.has(file)) continue;
    text.split('\n').forEach((raw, i) => {
      let line = raw;
      for (const [token] of platformNameExceptions) line = line.split(token).join('');
      const lower = line.toLowerCase();
      for (const name of platforms) if (lower.includes(name)) found.push(`${file}:${i + 1} names '${name}'`);
    });
  }
  return found;
}

describe('no platform names under src/', () => {
  const tree = readTree(['src', 'adapters']);
  const platforms = namedPlatforms(tree);

  it('knows the platforms from the adapter folders', () => {
    expect(platforms).toEqual(expect.arrayContaining(['github', 'linear', 'slack']));
    expect(platforms).not.toContain('local');
  });

  it('src/ names none of them (src/main.ts lists them)', () => {
    expect(platformNamesInSrc(tree, platforms)).toEqual([]);
  });

  it('catches a planted name in code, a string or a comment, in any case, and allows the exceptions', () => {
    const planted: SourceTree = new Map([
      ['adapters/teams/index.ts', 'export const teamsPlatform = {};\n'],
      ['adapters/local/index.ts', 'export const localPlatform = {};\n'],
      ['src/core/bad-list.ts', "export const platforms = ['local', 'teams'] as const;\n"],
      ['src/engine/bad-comment.ts', '// a reply from the Teams modal\nexport const x = 1;\n'],
      ['src/http/bad-string.ts', "const m = 'set TEAMS_TOKEN';\n"],
      ['src/sandbox/fine.ts', "const account = { github_login: null, local: 'local:demo' };\n"],
      ['src/main.ts', "import { teamsPlatform } from '../adapters/teams/index.js';\n"],
      ['adapters/teams/teams-adapter.ts', "export const name = 'teams';\n"],
    ]);
    const names = namedPlatforms(planted);
    expect(names).toEqual(['teams']);
    expect(platformNamesInSrc(planted, [...names, 'github'])).toEqual([
      "src/core/bad-list.ts:1 names 'teams'",
      "src/engine/bad-comment.ts:1 names 'teams'",
      "src/http/bad-string.ts:1 names 'teams'",
    ]);
    // An exception is an exact token: in another case it is a name like any other.
    expect(platformNamesInSrc(new Map([['src/sandbox/x.ts', 'github_login']]), ['github'])).toEqual([]);
    expect(platformNamesInSrc(new Map([['src/sandbox/x.ts', 'gitHub_login']]), ['github'])).toEqual([
      "src/sandbox/x.ts:1 names 'github'",
    ]);
  });
});

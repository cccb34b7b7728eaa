import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { findOnPath } from '../../src/store/embedded-redis.js';

/**
 * Which Chromium the browser tests drive (playwright-core never downloads one):
 * 1. `HANDOFF_CHROMIUM_PATH`, when set (it must exist);
 * 2. Debian's `chromium` on PATH (`sudo apt-get install chromium`);
 * 3. the Chromium that the `@sparticuz/chromium` devDependency ships in its npm tarball
 *    (brotli-compressed; unpacked into the temp directory on first use, with the few shared
 *    libraries it ships beside it for machines that lack them). Nothing is downloaded.
 */
export interface ChromiumChoice {
  readonly executablePath: string;
  readonly source: 'HANDOFF_CHROMIUM_PATH' | 'PATH' | '@sparticuz/chromium';
  /** Extra environment for the browser process (the bundled libraries' directory). */
  readonly env: Record<string, string>;
}

export async function resolveChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumChoice> {
  const override = env.HANDOFF_CHROMIUM_PATH;
  if (override) {
    if (!existsSync(override)) {
      throw new Error(`HANDOFF_CHROMIUM_PATH is ${override}, which does not exist. Point it at a Chromium binary.`);
    }
    return { executablePath: override, source: 'HANDOFF_CHROMIUM_PATH', env: {} };
  }
  const debian = findOnPath('chromium', env.PATH);
  if (debian) return { executablePath: debian, source: 'PATH', env: {} };
  return bundledChromium();
}

async function bundledChromium(): Promise<ChromiumChoice> {
  let Chromium: typeof import('@sparticuz/chromium').default;
  try {
    Chromium = (await import('@sparticuz/chromium')).default;
  } catch (err) {
    throw new Error(
      'The browser tests need Chromium: none on PATH and the @sparticuz/chromium devDependency is not installed. ' +
        "Run `npm install`, or install Debian's (`sudo apt-get install chromium`), or set HANDOFF_CHROMIUM_PATH.",
      { cause: err },
    );
  }
  // With no argument it inflates the package's own bin/chromium.br (a URL argument would download: never pass one).
  const executablePath = await Chromium.executablePath();
  const libDir = unpackLibraries();
  const inherited = process.env.LD_LIBRARY_PATH;
  return {
    executablePath,
    source: '@sparticuz/chromium',
    env: { LD_LIBRARY_PATH: inherited ? `${libDir}:${inherited}` : libDir },
  };
}

/**
 * The package's `bin/al2023.tar.br` holds the NSS, NSPR and expat libraries its Chromium links
 * against (the package itself unpacks them only on AWS). Unpacked once into `<tmp>/al2023/lib`.
 */
function unpackLibraries(): string {
  const root = join(tmpdir(), 'al2023');
  const libDir = join(root, 'lib');
  if (existsSync(join(libDir, 'libnss3.so'))) return libDir;
  // <package>/build/cjs/index.cjs → <package>/bin/al2023.tar.br
  const packageDir = resolve(createRequire(import.meta.url).resolve('@sparticuz/chromium'), '..', '..', '..');
  const tar = brotliDecompressSync(readFileSync(join(packageDir, 'bin', 'al2023.tar.br')));
  for (const entry of tarEntries(tar)) {
    const target = join(root, entry.name);
    mkdirSync(dirname(target), { recursive: true });
    // Written under a temporary name and renamed, so a parallel test process never loads half a file.
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, entry.data, { mode: 0o755 });
    renameSync(partial, target);
  }
  return libDir;
}

/** The regular files of a ustar archive (all this package's archive holds). */
function* tarEntries(tar: Buffer): Generator<{ name: string; data: Buffer }> {
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) return;
    const field = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const name = `${field(345, 155) ? `${field(345, 155)}/` : ''}${field(0, 100)}`;
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const dataStart = offset + 512;
    if ((type === '0' || type === '') && !name.includes('..')) {
      yield { name, data: tar.subarray(dataStart, dataStart + size) };
    }
    offset = dataStart + Math.ceil(size / 512) * 512;
  }
}

// The renderer's stylesheets are plain CSS with global class names, one file per component. Global
// names only stay predictable if each component styles its own classes, the shared files load first,
// and every colour and size a view uses is a token that exists in both themes.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const RENDERER = resolve('renderer');
const TOKENS = join(RENDERER, 'styles', 'tokens.css');
const SHARED = ['styles/tokens.css', 'styles/base.css', 'styles/controls.css'];

function filesUnder(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path, pattern);
    return pattern.test(entry.name) ? [path] : [];
  });
}

const stylesheets = filesUnder(RENDERER, /\.css$/);
const modules = filesUnder(RENDERER, /\.tsx?$/);
const css = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
const name = (file: string) => relative(RENDERER, file);

/** The CSS files a module imports, in import order, as paths relative to renderer/. */
function cssImports(module: string): string[] {
  const source = readFileSync(module, 'utf8');
  return [...source.matchAll(/^import '(\.{1,2}\/[^']+\.css)';$/gm)].map((m) =>
    relative(RENDERER, resolve(dirname(module), m[1] ?? '')),
  );
}

/** Selectors of every style rule (inside @media too; not keyframe steps), one per comma-separated part. */
function selectors(file: string): string[] {
  const out: string[] = [];
  const text = css(file).replace(/@keyframes[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}/g, '');
  for (const match of text.matchAll(/([^{};]+)\{[^{}]*\}/g)) {
    out.push(...(match[1] ?? '').split(',').map((s) => s.trim()));
  }
  return out.filter((s) => s.length > 0);
}

/** The component a selector belongs to: its first class, without BEM __element or --modifier. */
function block(selector: string): string | undefined {
  return /\.([a-z][a-z0-9-]*?)(?:__|--|[^a-z0-9-]|$)/.exec(selector)?.[1];
}

describe('renderer stylesheets', () => {
  it('ships every stylesheet: each one is imported by a renderer module', () => {
    const imported = new Set(modules.flatMap(cssImports));
    const orphans = stylesheets.map(name).filter((file) => !imported.has(file));
    expect(orphans).toEqual([]);
  });

  it('loads tokens, base rules and shared controls before any component, in that order', () => {
    const main = readFileSync(join(RENDERER, 'main.tsx'), 'utf8');
    const imports = [...main.matchAll(/^import (?:.* from )?'(\.[^']+)';$/gm)].map((m) => m[1] ?? '');
    const firstLocal = imports.findIndex((path) => !path.endsWith('.css'));
    expect(imports.slice(0, firstLocal).map((path) => path.replace(/^\.\//, ''))).toEqual(SHARED);
    expect(modules.filter((m) => !m.endsWith('main.tsx')).flatMap(cssImports)).not.toContain(
      expect.stringMatching(/^styles\//),
    );
  });

  it('defines custom properties only in tokens.css, and every var() a view uses exists there', () => {
    const defined = new Set([...css(TOKENS).matchAll(/(?<![\w-])(--[a-z0-9-]+)\s*:/g)].map((m) => m[1]));
    expect(defined.size).toBeGreaterThan(30);
    for (const file of stylesheets.filter((f) => f !== TOKENS)) {
      expect(
        [...css(file).matchAll(/(?<![\w-])(--[a-z0-9-]+)\s*:/g)].map((m) => m[1]),
        name(file),
      ).toEqual([]);
      const unknown = [...css(file).matchAll(/var\((--[a-z0-9-]+)/g)].map((m) => m[1]).filter((v) => !defined.has(v));
      expect(unknown, `${name(file)} uses tokens that tokens.css does not define`).toEqual([]);
    }
  });

  it('gives both themes the same colour tokens', () => {
    const tokens = css(TOKENS);
    const dark = /@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}/.exec(tokens)?.[1] ?? '';
    const light = /^:root\s*\{([^}]*)\}/m.exec(tokens)?.[1] ?? '';
    const names = (body: string) => new Set([...body.matchAll(/(?<![\w-])(--[a-z0-9-]+)\s*:/g)].map((m) => m[1]));
    const layout = ['--font', '--mono', '--radius-sm', '--radius', '--radius-md', '--radius-lg', '--sidebar-width'];
    expect(names(dark).size).toBeGreaterThan(20);
    expect([...names(light)].filter((t) => !names(dark).has(t) && !layout.includes(t ?? ''))).toEqual([]);
  });

  it('styles each component in one file only', () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const file of stylesheets) {
      for (const selector of selectors(file)) {
        const b = block(selector);
        if (!b) continue;
        const first = owner.get(b);
        if (first === undefined) owner.set(b, name(file));
        else if (first !== name(file)) clashes.push(`.${b} in ${first} and ${name(file)} (${selector})`);
      }
    }
    expect(owner.get('task-row')).toBe('components/tasks-view.css');
    expect(owner.get('button')).toBe('styles/controls.css');
    expect(clashes).toEqual([]);
  });

  it("keeps each component's stylesheet next to it, named after it", () => {
    for (const file of stylesheets.filter((f) => basename(dirname(f)) === 'components')) {
      const component = file.replace(/\.css$/, '.tsx');
      expect(modules, `${name(file)} has no component next to it`).toContain(component);
      expect(cssImports(component), `${name(component)} does not import its stylesheet`).toContain(name(file));
    }
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';

/** One `import`/`export ... from`/`import()` of a relative module in a source file. */
export interface ImportEdge {
  /** Importing file, relative to the repository root (`src/core/pipeline/pipeline.ts`). */
  readonly from: string;
  /** Imported file, as its `.ts` source path. */
  readonly to: string;
  /** 1-based line of the specifier. */
  readonly line: number;
  /** `import type` / `export type`: erased at compile time, so it cannot take part in a load-order cycle. */
  readonly typeOnly: boolean;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;

/** The source with comments blanked (kept the same length, so line numbers hold): examples in doc comments are not imports. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

/** Whether the statement that ends at `index` imports or re-exports types only. */
function isTypeOnly(text: string, index: number): boolean {
  const start = Math.max(text.lastIndexOf(';', index), text.lastIndexOf('\n}', index), -1) + 1;
  const statement = text.slice(start, index).trim();
  if (/^(import|export)\s+type\b/.test(statement)) return true;
  const names = /^(?:import|export)\s*\{([^}]*)\}/.exec(statement)?.[1];
  return (
    names !== undefined &&
    names
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean)
      .every((n) => n.startsWith('type '))
  );
}

/** Every `.ts` file under `dir`, relative to `root`. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
      const rel = path.join(d, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel.split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** The relative imports of each file (type-only imports included: they couple the code just as much). */
export function importEdges(root: string, files: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const text = withoutComments(fs.readFileSync(path.join(root, from), 'utf8'));
    for (const match of text.matchAll(SPECIFIER)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), match[2]!)).replace(/\.js$/, '.ts');
      const line = text.slice(0, match.index).split('\n').length;
      const typeOnly = !match[0].includes('import(') && isTypeOnly(text, match.index!);
      edges.push({ from, to: target.endsWith('.ts') ? target : `${target}.ts`, line, typeOnly });
    }
  }
  return edges;
}

/** Strongly connected components of the edges given with more than one file (Tarjan): each is an import cycle. */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

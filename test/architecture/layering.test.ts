import * as path from 'node:path';
import { expect } from 'chai';
import { importCycles, importEdges, sourceFiles, type ImportEdge } from './import-graph.js';

/**
 * The layers of src/, lowest first. A folder may import its own files and any folder
 * of a lower layer, never one of its own layer or above: cli -> report -> bench/testing
 * -> the package entry -> plugins -> engines -> compiler -> formats/io/zoo -> core ->
 * config -> errors. `(root)` is src/index.ts and src/optimize.ts.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors'],
  ['config'],
  ['core'],
  ['formats', 'io', 'zoo'],
  ['compiler'],
  ['lowering'],
  ['engines'],
  ['plugins'],
  ['(root)'],
  ['testing', 'bench'],
  ['report'],
  ['cli'],
];

const REPO = path.resolve(__dirname, '../../..');

/** `src/core/pipeline/x.ts` -> `core`; a file directly in src/ -> `(root)`. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : '(root)';
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

/** Each import that goes to a folder of the same or a higher layer, as `from:line -> to (why)`. */
export function upwardImports(edges: readonly ImportEdge[]): string[] {
  return edges.flatMap((e) => {
    const [from, to] = [folderOf(e.from), folderOf(e.to)];
    if (from === to) return [];
    const [a, b] = [layerOf(from), layerOf(to)];
    if (a >= 0 && b >= 0 && b < a) return [];
    const why =
      a < 0
        ? `${from} is in no layer`
        : b < 0
          ? `${to} is in no layer`
          : b === a
            ? `${from} and ${to} share a layer`
            : `${to} is above ${from}`;
    return [`${e.from}:${e.line} -> ${e.to} (${why})`];
  });
}

describe('architecture: layering of src/', () => {
  const files = sourceFiles(REPO, 'src');
  const edges = importEdges(REPO, files);

  it('reads the source: every top folder of src/ sits in a layer, and the graph has its edges', () => {
    const folders = [...new Set(files.map(folderOf))].sort();
    expect(
      folders.filter((f) => layerOf(f) < 0),
      'folders missing from LAYERS',
    ).to.deep.equal([]);
    expect(files.length).to.be.greaterThan(150);
    expect(edges.length).to.be.greaterThan(500);
  });

  it('no import points up (or sideways into another folder of the same layer)', () => {
    expect(upwardImports(edges)).to.deep.equal([]);
  });

  it('no import cycle among the modules that load at run time (type-only imports are erased)', () => {
    expect(importCycles(edges.filter((e) => !e.typeOnly))).to.deep.equal([]);
  });

  it('the checks catch what they are for: an upward import, a same-layer import and a cycle', () => {
    const edge = (from: string, to: string): ImportEdge => ({ from, to, line: 1, typeOnly: false });
    expect(upwardImports([edge('src/core/x.ts', 'src/plugins/y.ts')])).to.deep.equal([
      'src/core/x.ts:1 -> src/plugins/y.ts (plugins is above core)',
    ]);
    expect(upwardImports([edge('src/io/x.ts', 'src/formats/y.ts')])).to.deep.equal([
      'src/io/x.ts:1 -> src/formats/y.ts (io and formats share a layer)',
    ]);
    expect(upwardImports([edge('src/plugins/x.ts', 'src/core/y.ts')])).to.deep.equal([]);
    expect(importCycles([edge('src/a.ts', 'src/b.ts'), edge('src/b.ts', 'src/c.ts'), edge('src/c.ts', 'src/a.ts')])).to.deep.equal([
      ['src/a.ts', 'src/b.ts', 'src/c.ts'],
    ]);
    const typeEdges = importEdges(REPO, ['src/core/errors.ts']);
    expect(typeEdges.find((e) => e.to.endsWith('pipeline/report.ts'))?.typeOnly, 'errors.ts imports the report type only').to.equal(true);
  });
});

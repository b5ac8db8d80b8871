import type { GraphValue, KernelGraph, KernelNode, ValueId } from '../../../compiler/ir.js';
import type { GraphPass, PassReport } from '../../../compiler/passes/graph-pass.js';
import { GraphTools, type FusionContext, type FusionPattern, type FusionSite } from './fusion-pattern.js';

export interface FusionPassOptions {
  readonly patterns: readonly FusionPattern[];
  readonly context: FusionContext;
  /** Pattern names to skip. */
  readonly disabled?: readonly string[];
  /** When set, only sites whose key is in it are applied (bisection narrows it). */
  readonly allowedSites?: ReadonlySet<string>;
}

/** Per pattern: sites found and applied, over the whole pass. */
export interface FusionTally {
  readonly matched: Record<string, number>;
  readonly applied: Record<string, number>;
  /** Every site applied, in order (keys and the user's layers). */
  readonly sites: { key: string; pattern: string; layers: readonly string[] }[];
}

/**
 * Applies fusion patterns to a kernel graph: each pattern in order, repeatedly, until
 * it finds no new site (a site's rewrite can enable another), and the whole list again
 * while a sweep changed something (at most 4 sweeps). Sites of one round that
 * touch the same nodes are applied one at a time. The tally it fills tells what
 * matched and what was applied, per pattern, each site counted once however many
 * signatures the pass compiles.
 */
export function fusionPass(options: FusionPassOptions, tally: FusionTally): GraphPass {
  // the pass runs once per compiled signature (a model checked at two batch sizes compiles
  // twice): the tally counts each site once across those runs
  const matchedKeys = new Set<string>();
  const appliedKeys = new Set<string>();
  return {
    name: 'fusion',
    description: 'apply the fusion patterns',
    run(graph, passContext): { graph: KernelGraph; report: PassReport } {
      let current = graph;
      // keys applied in this run (never applied twice); a site that lost to an overlapping one
      // stays eligible for the next round
      const done = new Set<string>();
      // sweeps over the pattern list until one applies nothing: a later pattern's rewrite can enable an
      // earlier one (a depthwise conv's bias Add moved into the kernel lets the BatchNorm after it fold)
      for (let sweep = 0, changed = true; changed && sweep < 4; sweep++) {
        changed = false;
        for (const pattern of options.patterns) {
          if (options.disabled?.includes(pattern.name)) continue;
          if (passContext.mode === 'training' && !pattern.trainingSafe) continue;
          for (let round = 0; round < 16; round++) {
            const sites = pattern.match(current, options.context, new GraphTools(current)).filter((s) => !done.has(s.key));
            for (const s of sites) {
              if (matchedKeys.has(s.key)) continue;
              matchedKeys.add(s.key);
              tally.matched[pattern.name] = (tally.matched[pattern.name] ?? 0) + 1;
            }
            const chosen = disjoint(sites.filter((s) => !options.allowedSites || options.allowedSites.has(s.key)));
            if (chosen.length === 0) break;
            current = applySites(current, chosen);
            for (const s of chosen) {
              done.add(s.key);
              if (appliedKeys.has(s.key)) continue;
              appliedKeys.add(s.key);
              tally.applied[pattern.name] = (tally.applied[pattern.name] ?? 0) + 1;
              tally.sites.push({ key: s.key, pattern: s.pattern, layers: s.layers });
            }
            changed = true;
          }
        }
      }
      const applied = tally.sites.length;
      const detail = applied
        ? Object.entries(tally.applied)
            .map(([p, n]) => `${p} x${n}`)
            .join(', ')
        : 'no pattern applied';
      return { graph: current, report: { pass: 'fusion', changes: graph.nodes.length - current.nodes.length, detail } };
    },
  };
}

export function emptyTally(): FusionTally {
  return { matched: {}, applied: {}, sites: [] };
}

/** Sites that share no node, first come first kept (the rest wait for the next round). */
function disjoint(sites: FusionSite[]): FusionSite[] {
  const taken = new Set<number>();
  return sites.filter((s) => {
    if (s.removes.some((id) => taken.has(id))) return false;
    for (const id of s.removes) taken.add(id);
    return true;
  });
}

function applySites(graph: KernelGraph, sites: readonly FusionSite[]): KernelGraph {
  const removed = new Set<number>();
  const replacements = new Map<number, KernelNode>();
  const values = new Map<ValueId, GraphValue>(graph.values);
  for (const s of sites) {
    for (const id of s.removes) removed.add(id);
    replacements.set(s.anchor, s.replacement);
    for (const v of s.newValues) values.set(v.id, v);
  }
  const nodes: KernelNode[] = [];
  for (const n of graph.nodes) {
    const replacement = replacements.get(n.id);
    if (replacement) nodes.push(replacement);
    else if (!removed.has(n.id)) nodes.push(n);
  }
  for (const n of nodes) for (const o of n.outputs) values.set(o, { ...values.get(o)!, producer: n.id });
  return { ...graph, nodes, values };
}

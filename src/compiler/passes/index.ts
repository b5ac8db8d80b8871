import type { KernelGraph } from '../ir.js';
import { commonSubexpressions } from './common-subexpressions.js';
import { constantFolding } from './constant-folding.js';
import { deadCode } from './dead-code.js';
import type { GraphPass, PassContext, PassReport } from './graph-pass.js';
import { noopRemoval } from './noop-removal.js';

export type { GraphPass, PassContext, PassReport } from './graph-pass.js';
export { planMemory, type MemoryPlan } from './memory-plan.js';

/** The built-in passes, in the order they run. */
export const BUILT_IN_PASSES: readonly GraphPass[] = [noopRemoval, constantFolding, commonSubexpressions, deadCode];

/** Names of every pass that can be switched off (`memory-plan` included). */
export const PASS_NAMES: readonly string[] = [...BUILT_IN_PASSES.map((p) => p.name), 'memory-plan'];

/** Runs the passes not named in `disabled`, in order; reports what each did. */
export function runPasses(
  graph: KernelGraph,
  context: PassContext,
  disabled: readonly string[] = [],
  passes: readonly GraphPass[] = BUILT_IN_PASSES,
): { graph: KernelGraph; reports: PassReport[] } {
  const reports: PassReport[] = [];
  let current = graph;
  for (const pass of passes) {
    if (disabled.includes(pass.name)) {
      reports.push({ pass: pass.name, changes: 0, detail: 'disabled' });
      continue;
    }
    const { graph: next, report } = pass.run(current, context);
    current = next;
    reports.push(report);
  }
  return { graph: current, reports };
}

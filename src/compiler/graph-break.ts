/** Why a trace cannot be replayed safely; that signature then runs eagerly. */
export type GraphBreakCause =
  | 'value-read'
  | 'random-values'
  | 'variable-created'
  | 'variable-assigned'
  | 'non-plain-attribute'
  | 'unstable-trace'
  | 'unsupported-output'
  | 'untraced-kernel';

export interface GraphBreak {
  readonly cause: GraphBreakCause;
  /** The reason in words, naming the operation (and where it was called from, when known). */
  readonly reason: string;
}

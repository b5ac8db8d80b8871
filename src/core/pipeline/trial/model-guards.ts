import type { KilnModel } from '../../kiln-model.js';
import type { StockModel } from '../../formats/model-format.js';
import { WeightGuard } from '../../weight-guard.js';

/** What a guard check found: the reason for the decision, and whether Kiln's kept model was lost. */
export interface GuardFinding {
  readonly reason: string;
  /** Weights of Kiln's kept model were disposed: it cannot be restored, and the pipeline must go back to an intact model. */
  readonly keptModelLost: boolean;
}

/**
 * Watches, during one candidate's trial, the weights of the user's model and of the model
 * Kiln has kept so far (a wasm copy, a layer rewrite: what the candidate is handed as
 * `target`), so a plugin that writes into either is caught and the values are put back.
 * A checksum and a copy of every weight are taken before the candidate runs.
 */
export class ModelGuards {
  private readonly user: WeightGuard;
  private readonly kept: WeightGuard | undefined;

  constructor(
    userModel: StockModel,
    private readonly current: KilnModel,
  ) {
    this.user = WeightGuard.capture(userModel.format.weights(userModel.model));
    const stock = current.stock;
    this.kept = stock && stock.model !== userModel.model ? WeightGuard.capture(stock.format.weights(stock.model)) : undefined;
  }

  /** What changed since capture, with the values restored; undefined when nothing did. */
  check(): GuardFinding | undefined {
    const parts: string[] = [];
    let keptModelLost = false;
    const userChanged = this.user.changed();
    if (userChanged.length) parts.push(`mutated the user's weights (${names(userChanged)}); ${restored(this.user.restore())}`);
    const keptChanged = this.kept?.changed() ?? [];
    if (keptChanged.length) {
      const lost = this.kept!.restore();
      keptModelLost = lost.length > 0;
      parts.push(`mutated the model Kiln had kept (${this.current.description}: ${names(keptChanged)}); ${restored(lost)}`);
    }
    return parts.length ? { reason: parts.join('; '), keptModelLost } : undefined;
  }

  dispose(): void {
    this.user.dispose();
    this.kept?.dispose();
  }
}

function names(list: readonly string[]): string {
  return `${list.slice(0, 5).join(', ')}${list.length > 5 ? `, and ${list.length - 5} more` : ''}`;
}

function restored(lost: readonly string[]): string {
  return lost.length ? `restored all but ${names(lost)} (disposed)` : 'their values were restored';
}

/**
 * The kit's watch over one model's weights, through the model's format: their values
 * (Kiln's WeightGuard: a checksum and a copy of each), and which tensors the model holds
 * (a graph model's weights sit in a plain map, so a plugin can swap one for another
 * tensor without writing into any).
 */
import type * as tf from '@tensorflow/tfjs';
import type { StockModel } from '../core/formats/model-format.js';
import { WeightGuard } from '../core/weight-guard.js';

interface Held {
  readonly name: string;
  readonly value: tf.Tensor;
}

export class WeightWatch {
  private constructor(
    private readonly stock: StockModel,
    private readonly guard: WeightGuard,
    private readonly held: readonly Held[],
  ) {}

  static capture(stock: StockModel): WeightWatch {
    const weights = stock.format.weights(stock.model);
    return new WeightWatch(
      stock,
      WeightGuard.capture(weights),
      weights.map((w) => ({ name: w.name, value: w.value })),
    );
  }

  /** Names of the weights whose values changed, that were disposed, or that the model now holds as another tensor (or no longer, or newly). */
  changed(): string[] {
    return [...new Set([...this.guard.changed(), ...this.swapped()])];
  }

  /** Writes the captured values back where the format can; the names it could not (disposed, swapped, or of a format without write-back). */
  restore(): string[] {
    return [...new Set([...this.guard.restore(), ...this.swapped()])];
  }

  dispose(): void {
    this.guard.dispose();
  }

  private swapped(): string[] {
    let now: readonly Held[];
    try {
      now = this.stock.format.weights(this.stock.model);
    } catch {
      return []; // its weights cannot be read (disposed): the guard names them
    }
    if (now.length === this.held.length) return now.filter((w, i) => w.value !== this.held[i]!.value).map((w) => w.name);
    const before = new Set(this.held.map((w) => w.name));
    const after = new Set(now.map((w) => w.name));
    return [
      ...now.filter((w) => !before.has(w.name)).map((w) => `${w.name} (added)`),
      ...this.held.filter((w) => !after.has(w.name)).map((w) => `${w.name} (removed)`),
    ];
  }
}

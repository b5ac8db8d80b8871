import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { resolveAllByLevel } from '../container-chain.js';
import { InputError } from '../errors.js';
import { MODEL_FORMAT } from '../tokens.js';
import type { ModelFormat, StockModel } from './model-format.js';

/** Registers a model format adapter in `container` (default: tsyringe's root, where the built-ins go). */
export function registerModelFormat(format: ModelFormat<any>, container: DependencyContainer = rootContainer): void {
  container.register(MODEL_FORMAT, { useValue: format });
}

/**
 * The model formats registered under `MODEL_FORMAT` in a container and its ancestors:
 * a child container's format stands in for its parent's of the same name.
 */
export class FormatRegistry {
  private readonly byName = new Map<string, ModelFormat>();

  constructor(container: DependencyContainer = rootContainer) {
    for (const level of resolveAllByLevel<ModelFormat>(container, MODEL_FORMAT)) {
      for (const format of level) this.byName.set(format.name, format);
    }
  }

  list(): ModelFormat[] {
    return [...this.byName.values()];
  }

  /** `model` with the format that owns it; a model no format owns is an InputError naming the formats Kiln has. */
  stockModelOf(model: unknown): StockModel {
    const format = this.list().find((f) => f.owns(model));
    if (!format) throw new InputError(`Kiln cannot optimise ${describeModel(model)}: it takes ${this.known()}.`);
    return { format, model: model as object };
  }

  /** The format whose files `modelJson` is, or undefined. */
  formatOfModelJson(modelJson: Readonly<Record<string, unknown>>): ModelFormat | undefined {
    return this.list().find((f) => f.recognises(modelJson));
  }

  /** The formats, as a phrase for messages. */
  known(): string {
    const names = this.list().map((f) => f.displayName);
    return names.length ? names.join(' or ') : '(no model format registered: import tfjs-kiln, which registers the built-in ones)';
  }
}

function describeModel(model: unknown): string {
  if (model === null || typeof model !== 'object') return `a ${model === null ? 'null' : typeof model}`;
  const name = (model as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'this object';
}

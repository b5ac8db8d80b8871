/**
 * The stored bytes of each weight at each precision, computed once and shared by the
 * search and the files written, so that what was validated is what is saved. uint8
 * codes come from error feedback where calibration covers the weight (see
 * error-feedback.ts), from round-to-nearest otherwise.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Calibration } from './calibration.js';
import { errorFeedbackCodes } from './error-feedback.js';
import { affineGrid, encodeAffine, encodeWeight, type EncodedWeight, type StoredPrecision } from './quantize.js';

/** How a weight's codes were chosen. */
export type Rounding = 'nearest' | 'error-feedback';

/** What the encoder needs of a weight. */
export interface EncodableWeight {
  readonly spec: tf.io.WeightsManifestEntry;
  readonly values?: Float32Array;
}

export class WeightEncoder {
  private readonly cache = new Map<string, Map<StoredPrecision, EncodedWeight>>();
  private readonly rounded = new Map<string, Rounding>();
  /** By weight name: why error feedback failed on a weight calibration covers. */
  private readonly fallbacks = new Map<string, string>();

  constructor(
    private readonly weights: ReadonlyMap<string, EncodableWeight>,
    private readonly calibration?: Calibration,
  ) {}

  /** The stored bytes of weight `name` at `precision` (computed once). */
  encoded(name: string, precision: StoredPrecision): EncodedWeight {
    let byPrecision = this.cache.get(name);
    if (!byPrecision) this.cache.set(name, (byPrecision = new Map()));
    let e = byPrecision.get(precision);
    if (!e) byPrecision.set(precision, (e = this.encode(name, precision)));
    return e;
  }

  /**
   * Why the uint8 codes of `name` were rounded to nearest although error feedback was
   * asked for: calibration does not cover the weight, or error feedback failed on it.
   * Undefined when error feedback was not asked for (no calibration) or was used.
   */
  nearestWhy(name: string): string | undefined {
    if (!this.calibration || this.rounded.get(name) === 'error-feedback') return undefined;
    return this.fallbacks.get(name) ?? this.calibration.skipped.get(name);
  }

  /** How the uint8 codes of `name` were chosen (`nearest` until they are computed, and for every other precision). */
  roundingOf(name: string, precision: StoredPrecision): Rounding {
    return precision === 'uint8' ? (this.rounded.get(name) ?? 'nearest') : 'nearest';
  }

  private encode(name: string, precision: StoredPrecision): EncodedWeight {
    const w = this.weights.get(name);
    if (!w?.values) throw new Error(`weight "${name}" has no float32 values to encode`);
    const moments = precision === 'uint8' ? this.calibration?.moments.get(name) : undefined;
    if (moments) {
      const grid = affineGrid(w.values, 'uint8');
      try {
        const codes = errorFeedbackCodes(w.values, moments.hessian, moments.rows, moments.cols, grid);
        this.rounded.set(name, 'error-feedback');
        return encodeAffine(w.spec, codes, grid);
      } catch (error) {
        this.fallbacks.set(name, `error feedback failed: ${(error as Error).message}`);
      }
    }
    return encodeWeight(w.spec, w.values, precision);
  }
}

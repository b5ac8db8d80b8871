/**
 * The default `validation.tolerance`: an output's largest |candidate - original| may be
 * at most this share of its scale (its largest |original|). Measured with
 * bench/backend-drift.ts: the stock wasm and wasm-threads backends differ from cpu by
 * at most 6e-6 of the scale on the zoo and the ESRGAN slim models (2.3e-6 pooled over
 * the validation sets, as checked), so 1e-4 leaves a margin of 15-40x and still rejects
 * a drift of 1% of the scale by a factor of 100.
 */
export const DEFAULT_TOLERANCE = 1e-4;

/**
 * How much looser the scale-aware default is on the stress set (the samples scaled by
 * `validation.largeMagnitude`, far outside what most models are fed): float32 rounding
 * is amplified there. Measured on real models (scratch drift runs on human-models and
 * ESRGAN): in-range inputs differ wasm vs cpu by at most 2.6e-6 of the scale, standard
 * normal inputs by 2e-5, the same x10 by up to 3.5e-3 (MediaPipe selfie segmentation).
 * 100 x 1e-4 = 1e-2 of the scale still catches overflow, NaN and gross error.
 */
export const STRESS_FACTOR = 100;

/**
 * The smallest scale an output is measured against: an all-zero reference output (or
 * one whose largest |value| is below this) allows `tolerance` x 1e-6, next to nothing,
 * instead of nothing at all (a scale of 0 would fail on any rounding).
 */
export const SCALE_FLOOR = 1e-6;

/** What `validation.atol` / `validation.rtol` are when only the other one is set (their defaults before `tolerance`). */
export const ELEMENTWISE_DEFAULTS = Object.freeze({ atol: 1e-5, rtol: 1e-4 });

/** The tolerance keys of `validation:` as the user gave them (absent: not set); also the terms of an OutputBudget. */
export interface ToleranceSettings {
  readonly tolerance?: number;
  readonly atol?: number;
  readonly rtol?: number;
}

/**
 * The terms every output is held to when no accuracy budget covers it: element-wise
 * atol/rtol when either is set (the other at its former default), the scale-aware
 * `tolerance` when it is set or when neither atol nor rtol is (then DEFAULT_TOLERANCE).
 */
export function defaultTerms(settings: ToleranceSettings): ToleranceSettings {
  const elementwise = settings.atol !== undefined || settings.rtol !== undefined;
  const terms: { atol?: number; rtol?: number; tolerance?: number } = {};
  if (elementwise) {
    terms.atol = settings.atol ?? ELEMENTWISE_DEFAULTS.atol;
    terms.rtol = settings.rtol ?? ELEMENTWISE_DEFAULTS.rtol;
  }
  if (settings.tolerance !== undefined || !elementwise) terms.tolerance = settings.tolerance ?? DEFAULT_TOLERANCE;
  return terms;
}

/** The default terms in words, for reports: `max |diff| <= 0.0001 x the output scale (max |original|)`. */
export function describeTerms(terms: ToleranceSettings): string {
  const parts: string[] = [];
  if (terms.tolerance !== undefined)
    parts.push(
      `max |diff| <= ${terms.tolerance} x the output scale (max |original|)` +
        (terms.atol === undefined && terms.rtol === undefined
          ? `, ${terms.tolerance * STRESS_FACTOR} x on the large-magnitude stress set`
          : ''),
    );
  if (terms.atol !== undefined || terms.rtol !== undefined)
    parts.push(`|diff| <= atol ${terms.atol ?? 0} + rtol ${terms.rtol ?? 0} x |original|, element-wise`);
  return parts.join(' and ');
}

/** An output's scale: its largest finite |value|, at least SCALE_FLOOR. */
export function outputScale(reference: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < reference.length; i++) {
    const a = Math.abs(reference[i]!);
    if (a > max && Number.isFinite(a)) max = a;
  }
  return Math.max(max, SCALE_FLOOR);
}

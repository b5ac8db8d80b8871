import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { registerDecorator, ValidateNested, type ValidationArguments } from 'class-validator';
import { Description } from '../../config/description.js';
import { IsMapping, IsNumberInRange, IsOneOfValues, ObjectRule } from '../../config/validators.js';
import type { BudgetMetric, OutputBudget, ValidationBudget } from '../../core/validation/budget.js';

/** The precision policies: one precision for every eligible weight, or `auto` (per weight, under the budget). */
export const PRECISION_POLICIES = ['auto', 'float16', 'uint16', 'uint8', 'int8'] as const;
export type PrecisionPolicy = (typeof PRECISION_POLICIES)[number];

/** How uint8 codes are chosen (see `rounding`). */
export const ROUNDINGS = ['error-feedback', 'nearest'] as const;

const BUDGET_TERMS = ['tolerance', 'atol', 'rtol', 'argmaxAgreement', 'klDivergence', 'metric'] as const;

/**
 * The default budget of every output: max |diff| at most 1e-3 of the output's scale
 * (its largest |original|). Measured with bench/backend-drift.ts: every weight of >= 1024
 * elements stored as float16 moves the zoo and ESRGAN outputs by 2.5e-5 to 3e-4 of
 * their scale (the attention block 1.1e-2), nearest-rounded uint8 by 4.4e-4 to 1.6e-1,
 * and float32 on wasm by at most 6e-6, so the float32 baseline always holds.
 */
export const DEFAULT_BUDGET_TOLERANCE = 1e-3;

/**
 * The accuracy budget of one output (a `budgets:` entry). Every term given must hold;
 * at least one is required.
 */
export class OutputBudgetOptions implements OutputBudget {
  @Description(
    "Scale-aware: the largest `|candidate - original|` over every validation set at most `tolerance` times the output's scale, its largest `|original|` (at least 1e-6). Every term given must hold; at least one term is required.",
  )
  @IsNumberInRange({ min: 0, optional: true })
  @ObjectRule(
    'budgetTerms',
    `at least one of: ${BUDGET_TERMS.join(', ')}`,
    (entry) => (BUDGET_TERMS.some((term) => entry[term] !== undefined) ? undefined : 'sets no budget term'),
    { anyOf: BUDGET_TERMS.map((term) => ({ required: [term] })) },
  )
  tolerance?: number;

  @Description('Element-wise `|candidate - original| <= atol + rtol * |original|` (a term missing is 0).')
  @IsNumberInRange({ min: 0, optional: true })
  atol?: number;

  @Description('Relative part of the element-wise check (see `atol`).')
  @IsNumberInRange({ min: 0, optional: true })
  rtol?: number;

  @Description('Share of rows whose top-1 index is unchanged (e.g. the move a policy head picks).')
  @IsNumberInRange({ min: 0, max: 1, optional: true })
  argmaxAgreement?: number;

  @Description('Largest mean KL(original || candidate) per row, in nats, for probability outputs.')
  @IsNumberInRange({ min: 0, optional: true })
  klDivergence?: number;

  @Description(
    'A metric of your own, from code only (YAML cannot carry a function): `{ name, compute(reference, candidate, shape) => number, max?, min? }`.',
  )
  @IsBudgetMetric()
  @Transform(({ obj }) => (obj as Record<string, unknown>).metric, { toClassOnly: true })
  metric?: BudgetMetric;
}

/** `options:` of the mixed-precision plugin. */
export class MixedPrecisionOptions {
  @Description(
    '`auto`: each weight gets the smallest precision the budgets allow (measured, then searched). `float16`, `uint16`, `uint8`: every eligible weight at that precision, if the budgets hold. `int8` is stored as affine `uint8` (tf.js weight files have no int8 type).',
  )
  @IsOneOfValues(PRECISION_POLICIES)
  policy: PrecisionPolicy = 'auto';

  @Description('Weights with fewer elements stay float32 (biases, BatchNorm parameters): they cost little and are often sensitive.')
  @IsNumberInRange({ integer: true, min: 1 })
  minElements = 1024;

  @Description(
    'How uint8 codes are chosen: `error-feedback` (GPTQ, for Conv2D and Dense kernels, calibrated on the layer inputs of the sample inputs; same grid and file format) or `nearest` (each value to its nearest code, as the tf.js converter does).',
  )
  @IsOneOfValues(ROUNDINGS)
  rounding: (typeof ROUNDINGS)[number] = 'error-feedback';

  @Description(
    'Accuracy budgets, per output name; `*` covers every output not named. An output neither named nor covered by `*` is held to the `validation` check (`validation.tolerance`, or `atol`/`rtol` when set). Default: every output within 1e-3 of its scale.',
  )
  @IsMapping('a mapping of output names (or "*") to budgets { tolerance?, atol?, rtol?, argmaxAgreement?, klDivergence?, metric? }')
  @ValidateNested({
    message: 'wrong type',
    context: { allowed: 'a mapping { tolerance?, atol?, rtol?, argmaxAgreement?, klDivergence?, metric? }' },
  })
  @Type(() => OutputBudgetOptions)
  budgets: Map<string, OutputBudgetOptions> = new Map([
    ['*', Object.assign(new OutputBudgetOptions(), { tolerance: DEFAULT_BUDGET_TOLERANCE })],
  ]);
}

/** The budgets as the validator takes them: a plain record, only the terms given. */
export function budgetOf(options: MixedPrecisionOptions): ValidationBudget {
  const entries =
    options.budgets instanceof Map ? [...options.budgets.entries()] : Object.entries(options.budgets as Record<string, OutputBudget>);
  const budget: Record<string, OutputBudget> = {};
  for (const [name, entry] of entries) {
    const clean: Record<string, unknown> = {};
    for (const term of BUDGET_TERMS) if (entry[term] !== undefined) clean[term] = entry[term];
    budget[name] = clean as OutputBudget;
  }
  return budget;
}

/** A user metric: `{ name: string, compute: function, max?: number, min?: number }` with max or min. */
function IsBudgetMetric() {
  const allowed = '{ name, compute(reference, candidate, shape) => number, max?, min? } with max or min, passed from code (not YAML)';
  const problemOf = (value: unknown): string | undefined => {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'wrong type';
    const m = value as Record<string, unknown>;
    const extra = Object.keys(m).filter((k) => !['name', 'compute', 'max', 'min'].includes(k));
    if (extra.length) return `unknown key ${JSON.stringify(extra[0])}`;
    if (typeof m.name !== 'string' || m.name.trim() === '') return 'needs a name (a non-empty string)';
    if (typeof m.compute !== 'function') return 'needs compute, a function (metrics can only be given from code, not YAML)';
    for (const bound of ['max', 'min'] as const) {
      if (m[bound] !== undefined && (typeof m[bound] !== 'number' || !Number.isFinite(m[bound]))) return `${bound} is not a finite number`;
    }
    if (m.max === undefined && m.min === undefined) return 'needs max or min';
    return undefined;
  };
  return function (target: object, propertyName: string): void {
    registerDecorator({
      name: 'kilnBudgetMetric',
      target: target.constructor,
      propertyName,
      options: { context: { allowed }, message: (args: ValidationArguments) => problemOf(args.value) ?? 'invalid value' },
      validator: { validate: (value: unknown) => problemOf(value) === undefined },
    });
  };
}

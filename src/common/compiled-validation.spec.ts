import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import {
  CreateEvaluationLabelDto,
  UpdateEvaluationLabelDto,
} from '../evaluation-labels/dto/create-evaluation-label.dto.js';
import {
  CreateEvaluationBatchDto,
  EvaluationBatchItemDto,
} from '../evaluations/dto/evaluation-batch.dto.js';
import {
  CreateRunEvaluationDto,
  ListRunEvaluationsQueryDto,
  UpdateRunEvaluationDto,
} from '../evaluations/dto/create-run-evaluation.dto.js';
import { CreateEvaluatorDto } from '../evaluators/dto/create-evaluator.dto.js';
import {
  AddQueueItemsDto,
  CreateReviewDto,
  ReviewEvaluationInputDto,
} from '../review-queues/dto/create-review-queue.dto.js';
import { CreateRunDto, UpdateRunDto } from '../runs/dto/create-run.dto.js';
import { CreateWebhookDto } from '../webhooks/dto/create-webhook.dto.js';
import { compiledValidator } from './compiled-validation.js';
import { createValidationPipe, validateValue } from './validation.js';

// Assay's validation, with class-validator and class-transformer alone: what the compiled
// rules must agree with.
const OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};
function reference(
  type: new () => object,
  value: object,
): { instance: object } | { errors: unknown } {
  const instance = plainToInstance(type, value, { enableImplicitConversion: false });
  const errors = validateSync(instance, OPTIONS);
  return errors.length ? { errors: JSON.parse(JSON.stringify(errors)) as unknown } : { instance };
}

const ID = '5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11';
/** Each DTO with a body it takes, which the random bodies start from. */
const DTOS: [new () => object, Record<string, unknown>][] = [
  [CreateRunEvaluationDto, { evaluation_label_id: ID, value: 1 }],
  [EvaluationBatchItemDto, { run_id: ID, evaluation_label_id: ID, value: 1 }],
  [UpdateRunEvaluationDto, { value: 1 }],
  [CreateEvaluationLabelDto, { name: 'q', value_type: 'continuous', min_value: 0, max_value: 5 }],
  [UpdateEvaluationLabelDto, { name: 'q' }],
  [CreateEvaluatorDto, { name: 'judge', kind: 'llm_judge' }],
  [CreateRunDto, { name: 'run' }],
  [UpdateRunDto, { status: 'completed' }],
  // Array fields, checked element by element (`each`).
  [CreateWebhookDto, { url: 'https://example.com/hook', event_types: ['*'] }],
  [CreateEvaluationBatchDto, { items: [{ run_id: ID, evaluation_label_id: ID, value: 1 }] }],
  // Nested DTOs (@ValidateNested with @Type), one or more of them.
  [CreateReviewDto, { evaluations: [{ evaluation_label_id: ID, value: 1 }], comment: 'ok' }],
  [
    AddQueueItemsDto,
    {
      items: [
        { run_id: ID, output_name: 'answer' },
        { run_id: ID, field_path: '$.a' },
      ],
    },
  ],
];

/** Values near and across every rule: ids, text of every length, numbers, nothing. */
const flatValue = fc.oneof(
  fc.uuid({ version: [1, 4, 7] }),
  fc.constantFrom(ID, '', 'answer', '$.a', 'x'.repeat(501)),
  fc.integer(),
  fc.constantFrom(0, 1, 0.5, NaN),
  fc.boolean(),
  fc.constant(null),
);
/** Objects with the fields of nested DTOs, some wrong, some foreign. */
const nestedKeys = ['evaluation_label_id', 'value', 'run_id', 'output_name', 'field_path'];
const nestedObject = fc.dictionary(fc.constantFrom(...nestedKeys, 'extra'), flatValue, {
  maxKeys: 3,
});
const anyValue = fc.oneof(
  fc.array(nestedObject, { maxLength: 3 }),
  fc.array(fc.oneof(nestedObject, flatValue), { maxLength: 2 }),
  fc.uuid({ version: [1, 4, 7] }),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom('', ' ', 'answer', '$.score', 'x'.repeat(500), 'x'.repeat(501), '😀'.repeat(300)),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, 1, -1, 0.5, 5, 1e308, Infinity, NaN),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('binary', 'continuous', 'categorical', 'true', '2024-01-01T00:00:00Z'),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.array(fc.oneof(fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }), fc.string()), {
    maxLength: 3,
  }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
);

/** A DTO's body, some of its fields left out or changed, now and then others added. */
function bodies(type: new () => object, base: Record<string, unknown>) {
  const fields = [...Object.keys(new type()), 'extra', 'constructor', 'toString', 'run_id'];
  return fc
    .tuple(
      fc.subarray(Object.keys(base)),
      fc.dictionary(fc.constantFrom(...fields), anyValue, { maxKeys: 3 }),
    )
    .map(([kept, changed]) => ({
      ...Object.fromEntries(kept.map((k) => [k, base[k]])),
      ...changed,
    }));
}

/** A value with the class of every object in it, nested ones too, for toEqual to compare. */
const shape = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(shape)
    : v !== null && typeof v === 'object'
      ? [v.constructor.name, Object.entries(v).map(([k, x]) => [k, shape(x)])]
      : v;

describe('compiled validation', () => {
  it('takes the bodies of the hot routes at once, and leaves the rest to class-validator', () => {
    const id = '5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11';
    const item = { evaluation_label_id: id, value: 4.5, output_name: 'answer' };
    expect(compiledValidator(CreateRunEvaluationDto)?.(item)).toEqual(
      Object.assign(new CreateRunEvaluationDto(), item),
    );
    expect(compiledValidator(EvaluationBatchItemDto)?.({ ...item, run_id: id })).toBeInstanceOf(
      EvaluationBatchItemDto,
    );
    expect(compiledValidator(UpdateRunEvaluationDto)?.({ value: 1 })).toBeInstanceOf(
      UpdateRunEvaluationDto,
    );
    // @Transform (numbers from the query string): class-validator alone.
    expect(compiledValidator(ListRunEvaluationsQueryDto)).toBeNull();
    // A batch's items: the array copied, each item as it was parsed (validated on its own).
    const batch = { items: [item, item] };
    const taken = compiledValidator(CreateEvaluationBatchDto)?.(batch);
    expect(taken).toEqual(Object.assign(new CreateEvaluationBatchDto(), batch));
    expect(taken?.items).not.toBe(batch.items);
    // Items that nest objects, or hold a key Nest's pipe strips: the pipe's, as before.
    for (const odd of [{ run_id: { constructor: 1 } }, { constructor: 1 }, { a: [] }]) {
      expect(compiledValidator(CreateEvaluationBatchDto)?.({ items: [odd] })).toBeUndefined();
    }
    // An object where the DTO has no `each` rule: copied deeply by class-transformer, so
    // class-validator's.
    expect(
      compiledValidator(CreateEvaluationBatchDto)?.({ items: [], atomic: {} }),
    ).toBeUndefined();
    expect(compiledValidator(CreateRunEvaluationDto)?.({ ...item, extra: 1 })).toBeUndefined();
    // A review's evaluations: each an instance of its DTO, made from its own object.
    const review = { evaluations: [{ evaluation_label_id: id, value: 1 }] };
    const made = compiledValidator(CreateReviewDto)?.(review);
    expect(made?.evaluations[0]).toBeInstanceOf(ReviewEvaluationInputDto);
    expect(made?.evaluations[0]).not.toBe(review.evaluations[0]);
    expect(made).toEqual(review);
    const [first] = review.evaluations;
    for (const odd of [
      [1],
      [null],
      [[]],
      [{ value: 1 }],
      [{ ...first, x: 1 }],
      [{ ...first, constructor: 1 }],
      {},
    ]) {
      expect(compiledValidator(CreateReviewDto)?.({ evaluations: odd })).toBeUndefined();
    }
  });

  it.each(DTOS.map(([t, base]) => [t.name, t, base] as const))(
    '%s: accepts only what class-validator accepts, as the same instance',
    (_name, type, base) => {
      let taken = 0;
      fc.assert(
        fc.property(bodies(type, base), (body) => {
          const accepted = compiledValidator(type)?.(structuredClone(body));
          const expected = reference(type, structuredClone(body));
          if (accepted) {
            taken++;
            expect('instance' in expected).toBe(true);
            const instance = (expected as { instance: object }).instance;
            expect(shape(accepted)).toEqual(shape(instance));
          }
        }),
        { numRuns: 3000 },
      );
      // Random bodies that pass every rule: the compiled rules were put to the test.
      expect(taken).toBeGreaterThan(100);
    },
  );

  it.each(DTOS.map(([t, base]) => [t.name, t, base] as const))(
    '%s: validateValue takes what class-validator takes, as the same instance, and refuses the rest',
    (_name, type, base) => {
      fc.assert(
        fc.property(bodies(type, base), (body) => {
          const got = validateValue(type, structuredClone(body));
          const expected = reference(type, structuredClone(body));
          if ('instance' in expected) {
            expect('value' in got && Object.entries(got.value)).toEqual(
              Object.entries(expected.instance),
            );
          } else {
            expect('problems' in got).toBe(true);
          }
        }),
        { numRuns: 1000 },
      );
    },
  );

  it('the body pipe answers as it did without them: the same instance, or the same error', async () => {
    const pipe = createValidationPipe();
    const plain = new (Object.getPrototypeOf(pipe.constructor) as new (o: object) => typeof pipe)({
      ...OPTIONS,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      exceptionFactory: (pipe as unknown as { exceptionFactory: unknown }).exceptionFactory,
    });
    for (const [type, base] of DTOS) {
      const samples = fc.sample(bodies(type, base), 500);
      for (const body of samples) {
        const metadata = { type: 'body' as const, metatype: type };
        const outcome = (p: typeof pipe) =>
          p.transform(structuredClone(body), metadata).then(
            (v: object) => ({ value: [v.constructor, Object.entries(v)] }),
            (e: unknown) => ({ error: JSON.parse(JSON.stringify(e)) as unknown }),
          );
        expect(await outcome(pipe)).toEqual(await outcome(plain));
      }
    }
  });
});

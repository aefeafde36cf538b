import { Body, HttpStatus, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ApiController } from '../common/api-controller.js';
import { ApiError, type ErrorDetail } from '../common/api-error.js';
import { toErrorResponse } from '../common/error-response.js';
import { validateValue } from '../common/validation.js';
import { ApiErrors, ApiWrite } from '../openapi/decorators.js';
import { Answer } from '../writes/answer.js';
import {
  CreateEvaluationBatchDto,
  EvaluationBatchItemDto,
  EvaluationBatchResultDto,
} from './dto/evaluation-batch.dto.js';
import { RunEvaluationDto, toRunEvaluationDto } from './dto/run-evaluation.dto.js';
import { EvaluationsService, type Outcome } from './evaluations.service.js';

/** A refused item: where it stands in the request, and why. */
interface Refusal {
  index: number;
  error: ApiError;
}

const invalidItem = (problems: ErrorDetail[]) =>
  new ApiError(
    'validation_failed',
    `Invalid item: ${problems
      .slice(0, 3)
      .map((p) => p.message)
      .join('; ')}.`,
    problems,
  );

const itemField = (index: number, field: string) =>
  field ? `items[${index}].${field}` : `items[${index}]`;

/** One error for an all-or-nothing batch, naming every refused item in `details`. */
function batchRefused(refusals: Refusal[], total: number): ApiError {
  const details: ErrorDetail[] = refusals.flatMap(({ index, error }) =>
    error.details?.length
      ? error.details.map((d) => ({ field: itemField(index, d.field), message: d.message }))
      : [{ field: itemField(index, ''), message: error.message }],
  );
  // The batch answers as its worst item would alone: malformed, then missing, then a rule.
  const statuses = refusals.map((r) => r.error.status);
  const [code, what]: [ApiError['code'], string] = statuses.includes(HttpStatus.BAD_REQUEST)
    ? ['validation_failed', 'malformed']
    : statuses.includes(HttpStatus.NOT_FOUND)
      ? ['not_found', 'refused (a run or label was not found)']
      : ['batch_rejected', 'refused'];
  const first = details
    .slice(0, 3)
    // Each message is a sentence of its own; the list gets one full stop, at its end.
    .map((d) => `${d.field}: ${d.message.replace(/\.$/, '')}`)
    .join('; ');
  return new ApiError(
    code,
    `${refusals.length} of ${total} items were ${what}, so nothing was written: ${first}` +
      `${details.length > 3 ? '; …' : ''}. Fix them (see details) and send the batch again.`,
    details,
  );
}

@ApiTags('Run evaluations')
@ApiController('v1/evaluations')
export class EvaluationBatchController {
  constructor(private readonly evaluations: EvaluationsService) {}

  @Post('batch')
  @ApiWrite()
  @ApiOperation({
    summary: 'Create many evaluations',
    description:
      'Creates up to 1,000 evaluations on any runs of your account, each checked by every ' +
      'rule as if it were posted alone. atomic (default true): all or nothing, 201 with the ' +
      'evaluations in request order, or one error naming every failing item. atomic false: ' +
      'each valid item is written; 207 with one result per item, in request order.',
  })
  @ApiErrors(
    { status: 201, type: [RunEvaluationDto], description: 'All created, in request order' },
    400,
    404,
  )
  @ApiErrors({
    status: 207,
    type: [EvaluationBatchResultDto],
    description: 'atomic false: one result per item, in request order',
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateEvaluationBatchDto,
    @Req() request: FastifyRequest,
  ): Promise<RunEvaluationDto[] | Answer> {
    const atomic = dto.atomic ?? true;
    const checked = dto.items.map((item) => validateValue(EvaluationBatchItemDto, item));
    const malformed: Refusal[] = checked.flatMap((c, index) =>
      'problems' in c ? [{ index, error: invalidItem(c.problems) }] : [],
    );
    if (atomic && malformed.length > 0) throw batchRefused(malformed, dto.items.length);

    const valid = checked.flatMap((c, index) => ('value' in c ? [{ index, item: c.value }] : []));
    const outcomes = await this.evaluations.createMany(
      principal,
      valid.map((v) => v.item),
      atomic,
    );
    const byIndex = new Map<number, Outcome>(valid.map((v, i) => [v.index, outcomes[i]]));
    if (atomic) {
      const refused = valid.flatMap(({ index }, i) => {
        const o = outcomes[i];
        return 'error' in o ? [{ index, error: o.error }] : [];
      });
      if (refused.length > 0) throw batchRefused(refused, dto.items.length);
      return outcomes.map((o) => toRunEvaluationDto((o as { evaluation: never }).evaluation));
    }
    const refusedAt = new Map(malformed.map((m) => [m.index, m.error]));
    const results: EvaluationBatchResultDto[] = dto.items.map((_, index) => {
      const outcome = byIndex.get(index);
      const error = refusedAt.get(index) ?? (outcome && 'error' in outcome ? outcome.error : null);
      if (error) {
        const { status, body } = toErrorResponse(error, String(request.id));
        return { index, status, error: body };
      }
      const { evaluation } = outcome as { evaluation: Parameters<typeof toRunEvaluationDto>[0] };
      return { index, status: HttpStatus.CREATED, evaluation: toRunEvaluationDto(evaluation) };
    });
    return new Answer(HttpStatus.MULTI_STATUS, results);
  }
}

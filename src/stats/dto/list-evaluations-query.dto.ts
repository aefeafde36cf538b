import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsRFC3339, IsString } from 'class-validator';
import { ListRunEvaluationsQueryDto } from '../../evaluations/dto/create-run-evaluation.dto.js';
import { FILTER_DOCS } from './stats-query.dto.js';

/** The filters of a run's list, across runs, plus workflow and a [from, to) range. */
export class ListEvaluationsQueryDto extends ListRunEvaluationsQueryDto {
  @ApiPropertyOptional(FILTER_DOCS.workflow)
  @IsOptional()
  @IsString()
  workflow?: string;

  @ApiPropertyOptional(FILTER_DOCS.from)
  @IsOptional()
  @IsRFC3339({ message: 'from must be an RFC 3339 instant, e.g. 2026-11-01T00:00:00Z' })
  from?: string;

  @ApiPropertyOptional(FILTER_DOCS.to)
  @IsOptional()
  @IsRFC3339({ message: 'to must be an RFC 3339 instant, e.g. 2026-12-01T00:00:00Z' })
  to?: string;
}

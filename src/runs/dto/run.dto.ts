import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { RUN_STATUSES, type JsonObject, type RunEntity, type RunStatus } from '../run.entity.js';

/** OpenAPI 3.0: a nullable enum must list null among its values to allow it. */
export const nullableStatus = { enum: [...RUN_STATUSES, null], nullable: true } as const;

const jsonObject = (description: string) =>
  ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description });

@ApiSchema({ name: 'Run', description: 'A recorded run of an AI workflow.' })
export class RunDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'ID of the account that owns this run' })
  account_id!: string;

  @ApiProperty({ type: String, nullable: true })
  name!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Name of the workflow that ran' })
  workflow!: string | null;

  @ApiProperty(nullableStatus)
  status!: RunStatus | null;

  @jsonObject('Inputs the run was given')
  inputs!: JsonObject | null;

  @jsonObject('Named outputs: output name → any JSON value')
  outputs!: JsonObject | null;

  @jsonObject('Free-form metadata')
  metadata!: JsonObject | null;

  @ApiProperty({ type: String, nullable: true })
  created_by!: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completed_at!: Date | null;
}

export function toRunDto(run: RunEntity): RunDto {
  return {
    id: run.id,
    account_id: run.accountId,
    name: run.name,
    workflow: run.workflow,
    status: run.status,
    inputs: run.inputs,
    outputs: run.outputs,
    metadata: run.metadata,
    created_by: run.createdBy,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    completed_at: run.completedAt,
  };
}

import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { findPage, type Page, type PageQueryDto } from '../common/paging.js';
import { conflictIfTaken } from '../common/pg-errors.js';
import { selectColumns } from '../database/columns.js';
import { EvaluationEntity } from '../evaluations/evaluation.entity.js';
import { WritePipeline } from '../writes/write-pipeline.js';
import type { SharedRead } from '../writes/write-scope.js';
import type {
  CreateEvaluationLabelDto,
  UpdateEvaluationLabelDto,
} from './dto/create-evaluation-label.dto.js';
import { toEvaluationLabelDto } from './dto/evaluation-label.dto.js';
import { EvaluationLabelEntity, type ValueType } from './evaluation-label.entity.js';
import { definitionProblems, type LabelDefinition } from './label-rules.js';

const notFound = (id: string) => ApiError.notFound('Evaluation label', id);

function checkDefinition(def: LabelDefinition): void {
  const problems = definitionProblems(def);
  if (problems.length > 0) {
    throw new ApiError(
      'invalid_label_definition',
      `This label definition is not consistent: ${problems.join('; ')}.`,
      problems.map((message) => ({ field: 'value_type', message })),
    );
  }
}

/**
 * higher_is_better as a label of this value type keeps it: null for a categorical label,
 * else what was asked, else what it was, else true. Null on another type means the default.
 */
function higherIsBetter(
  valueType: ValueType,
  requested: boolean | null | undefined,
  current: boolean | null,
): boolean | null {
  if (valueType === 'categorical') {
    if (requested != null) {
      throw new ApiError(
        'invalid_label_definition',
        'A categorical label has no better direction: leave higher_is_better out, or null.',
        [{ field: 'higher_is_better', message: 'must be null for a categorical label' }],
      );
    }
    return null;
  }
  return requested === undefined ? (current ?? true) : (requested ?? true);
}

const sameDefinition = (a: LabelDefinition, b: LabelDefinition) =>
  a.valueType === b.valueType &&
  a.minValue === b.minValue &&
  a.maxValue === b.maxValue &&
  JSON.stringify(a.categories) === JSON.stringify(b.categories);

/** Runs a write, turning a clash with a live label's name into a 409. */
const uniqueName = <T>(name: string, write: () => Promise<T>) =>
  conflictIfTaken(
    `A label named "${name}" already exists; choose another name or archive that label first.`,
    write,
  );

@Injectable()
export class EvaluationLabelsService {
  private readonly columns: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly writes: WritePipeline,
  ) {
    this.columns = selectColumns(db, EvaluationLabelEntity);
  }

  create(principal: Principal, dto: CreateEvaluationLabelDto): Promise<EvaluationLabelEntity> {
    const now = new Date();
    const label = Object.assign(new EvaluationLabelEntity(), {
      accountId: principal.accountId,
      id: randomUUID(),
      name: dto.name,
      description: dto.description ?? null,
      valueType: dto.value_type,
      minValue: dto.min_value ?? null,
      maxValue: dto.max_value ?? null,
      categories: dto.categories ?? null,
      higherIsBetter: higherIsBetter(dto.value_type, dto.higher_is_better, null),
      archivedAt: null,
      createdBy: principal.sub,
      createdAt: now,
      updatedAt: null,
    });
    checkDefinition(label);
    return this.writes.run(principal, async (w) => {
      await uniqueName(label.name, () => w.tx.getRepository(EvaluationLabelEntity).insert(label));
      w.emit('label.created', toEvaluationLabelDto(label));
      return label;
    });
  }

  list(
    principal: Principal,
    includeArchived: boolean,
    page: PageQueryDto,
  ): Promise<Page<EvaluationLabelEntity>> {
    const where = ['account_id = $1'];
    if (!includeArchived) where.push('archived_at IS NULL');
    return findPage(
      this.db,
      { columns: this.columns, from: 'evaluation_labels', where, params: [principal.accountId] },
      page,
    );
  }

  async get(principal: Principal, id: string): Promise<EvaluationLabelEntity> {
    const label = await this.db
      .getRepository(EvaluationLabelEntity)
      .findOneBy({ accountId: principal.accountId, id });
    if (!label) throw notFound(id);
    return label;
  }

  update(
    principal: Principal,
    id: string,
    dto: UpdateEvaluationLabelDto,
  ): Promise<EvaluationLabelEntity> {
    for (const field of ['name', 'value_type'] as const) {
      if (dto[field] === null) {
        throw new ApiError(
          'validation_failed',
          `${field} cannot be null; leave it out to keep it.`,
          [{ field, message: `${field} cannot be null` }],
        );
      }
    }
    return this.writes.run(principal, async (w) => {
      const label = await this.lock(w.tx, principal, id);
      w.precondition(toEvaluationLabelDto(label));
      const next: LabelDefinition = {
        name: dto.name ?? label.name,
        valueType: dto.value_type ?? label.valueType,
        minValue: dto.min_value !== undefined ? dto.min_value : label.minValue,
        maxValue: dto.max_value !== undefined ? dto.max_value : label.maxValue,
        categories: dto.categories !== undefined ? dto.categories : label.categories,
      };
      if (!sameDefinition(label, next) && (await this.inUse(w.tx, principal, id))) {
        throw new ApiError(
          'label_in_use',
          `Label "${label.name}" is used by evaluations, so its value_type, min_value, max_value ` +
            'and categories can no longer change; create a new label instead.',
        );
      }
      checkDefinition(next);
      Object.assign(label, next, {
        higherIsBetter: higherIsBetter(next.valueType, dto.higher_is_better, label.higherIsBetter),
        description: dto.description !== undefined ? dto.description : label.description,
        updatedAt: new Date(),
      });
      await uniqueName(label.name, () => w.tx.save(label));
      w.emit('label.updated', toEvaluationLabelDto(label));
      return label;
    });
  }

  /** Deletes an unused label; archives one that evaluations use, so that they stay readable. */
  async remove(principal: Principal, id: string): Promise<void> {
    await this.writes.run(principal, async (w) => {
      const label = await this.lock(w.tx, principal, id);
      w.precondition(toEvaluationLabelDto(label));
      if (!(await this.inUse(w.tx, principal, id))) {
        await w.tx.delete(EvaluationLabelEntity, { accountId: principal.accountId, id });
        w.emit('label.deleted', toEvaluationLabelDto(label));
      } else if (!label.archivedAt) {
        label.archivedAt = new Date();
        label.updatedAt = label.archivedAt;
        await w.tx.save(label);
        w.emit('label.archived', toEvaluationLabelDto(label));
      }
    });
  }

  /** Reads a label to change it, locked FOR UPDATE: writers of new evaluations wait for it. */
  private async lock(
    tx: EntityManager,
    principal: Principal,
    id: string,
  ): Promise<EvaluationLabelEntity> {
    const [row] = await tx.query<EvaluationLabelEntity[] | []>(
      `SELECT ${this.columns} FROM evaluation_labels WHERE account_id = $1 AND id = $2
         FOR UPDATE`,
      [principal.accountId, id],
    );
    if (!row) throw notFound(id);
    // An entity instance, so that a later tx.save() knows what it saves.
    return Object.assign(new EvaluationLabelEntity(), row);
  }

  /**
   * A label as JSON, for a statement that reads it beside a row that uses it: `account` and
   * `id` are SQL expressions of that statement.
   */
  rowJson(account: string, id: string): string {
    return `(SELECT row_to_json(l) FROM (SELECT ${this.columns} FROM evaluation_labels
              WHERE account_id = ${account} AND id = ${id}) AS l)`;
  }

  /**
   * An account's labels by id, for a writer of evaluations to read with its other reads
   * (WriteScope.readShared): `account` and `ids` are its placeholders.
   */
  sharedRead(account: string, ids: string): SharedRead {
    return {
      table: 'evaluation_labels',
      columns: this.columns,
      where: `account_id = ${account} AND id = ANY(${ids}::uuid[])`,
    };
  }

  private async inUse(tx: EntityManager, principal: Principal, id: string): Promise<boolean> {
    return tx.exists(EvaluationEntity, {
      where: { accountId: principal.accountId, evaluationLabelId: id },
    });
  }
}

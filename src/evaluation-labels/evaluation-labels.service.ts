import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { refuseNulls } from '../common/validation.js';
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
import { EvaluationLabelVersionEntity } from './evaluation-label-version.entity.js';
import {
  breakingChanges,
  definitionProblems,
  type LabelDefinition,
  type Scale,
  sameScale,
} from './label-rules.js';

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

/** What a PATCH would do to a label's scale, without doing it (`?dry_run=true`). */
export interface VersionPreview {
  new_version: boolean;
  version: number;
  breaking_changes: string[];
  outside: { count: number; by_reason: Record<string, number> };
}

/** The label a PATCH asks for, and whether it makes a new version of its scale. */
interface Planned {
  next: LabelDefinition;
  higherIsBetter: boolean | null;
  breaking: string[];
  newVersion: boolean;
}

/**
 * Why a stored value falls outside a scale, as SQL over `value`, or NULL when it fits. The
 * scale's numbers are parameters added with `add`.
 */
function outsideReasonSql(scale: Scale, add: (v: unknown) => string): string {
  switch (scale.valueType) {
    case 'binary':
      return `CASE WHEN value NOT IN (0, 1) THEN 'not_0_or_1' END`;
    case 'continuous':
      return `CASE WHEN value < ${add(scale.minValue)}::float8 THEN 'below_min_value'
                   WHEN value > ${add(scale.maxValue)}::float8 THEN 'above_max_value' END`;
    case 'categorical':
    case 'ordinal':
      return `CASE WHEN value <> trunc(value) OR value < 0
                     OR value >= ${add(scale.categories?.length ?? 0)}::int
                   THEN 'not_a_category_index' END`;
  }
}

const scaleOf = ({ valueType, minValue, maxValue, categories }: Scale): Scale => ({
  valueType,
  minValue,
  maxValue,
  categories,
});

/** Runs a write, turning a clash with a live label's name into a 409. */
const uniqueName = <T>(name: string, write: () => Promise<T>) =>
  conflictIfTaken(
    `A label named "${name}" already exists; choose another name or archive that label first.`,
    write,
  );

@Injectable()
export class EvaluationLabelsService {
  private readonly columns: string;
  private readonly versionColumns: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly writes: WritePipeline,
  ) {
    this.columns = selectColumns(db, EvaluationLabelEntity);
    this.versionColumns = selectColumns(db, EvaluationLabelVersionEntity, 'v');
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
      version: 1,
      archivedAt: null,
      createdBy: principal.sub,
      createdAt: now,
      updatedAt: null,
    });
    checkDefinition(label);
    return this.writes.run(principal, async (w) => {
      await uniqueName(label.name, () => w.tx.getRepository(EvaluationLabelEntity).insert(label));
      await w.tx.insert(EvaluationLabelVersionEntity, this.versionOf(label, label, principal, now));
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
    return this.writes.run(principal, async (w) => {
      const label = await this.lock(w.tx, principal, id);
      w.precondition(toEvaluationLabelDto(label));
      const { next, higherIsBetter, newVersion } = await this.plan(w.tx, principal, label, dto);
      const now = new Date();
      if (newVersion) {
        label.version += 1;
        await w.tx.insert(
          EvaluationLabelVersionEntity,
          this.versionOf(label, next, principal, now),
        );
      } else if (!sameScale(label, next)) {
        await w.tx.update(
          EvaluationLabelVersionEntity,
          { accountId: principal.accountId, labelId: id, version: label.version },
          scaleOf(next),
        );
      }
      Object.assign(label, next, {
        higherIsBetter,
        description: dto.description !== undefined ? dto.description : label.description,
        updatedAt: now,
      });
      await uniqueName(label.name, () => w.tx.save(label));
      w.emit('label.updated', toEvaluationLabelDto(label));
      return label;
    });
  }

  /**
   * What a PATCH would do to the label's scale, and how many current evaluations the new
   * definition would not allow, by reason; writes nothing. It reads in the write pipeline
   * like the PATCH itself, so that If-Match is honoured the same way.
   */
  preview(
    principal: Principal,
    id: string,
    dto: UpdateEvaluationLabelDto,
  ): Promise<VersionPreview> {
    return this.writes.run(principal, async (w) => {
      const label = await this.lock(w.tx, principal, id, 'FOR SHARE');
      w.precondition(toEvaluationLabelDto(label));
      const { next, breaking, newVersion } = await this.plan(w.tx, principal, label, dto);
      const params: unknown[] = [principal.accountId, id];
      const reason = outsideReasonSql(next, (v) => `$${params.push(v)}`);
      const rows = await w.tx.query<{ reason: string; n: number }[]>(
        `SELECT reason, count(*)::int AS n
           FROM (SELECT ${reason} AS reason FROM run_evaluations
                  WHERE account_id = $1 AND evaluation_label_id = $2) AS o
          WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason`,
        params,
      );
      return {
        new_version: newVersion,
        version: label.version + (newVersion ? 1 : 0),
        breaking_changes: newVersion ? breaking : [],
        outside: {
          count: rows.reduce((sum, r) => sum + r.n, 0),
          by_reason: Object.fromEntries(rows.map((r) => [r.reason, r.n])),
        },
      };
    });
  }

  /** Every version of a label's scale, oldest first, with how many evaluations carry it. */
  async versions(
    principal: Principal,
    id: string,
  ): Promise<(EvaluationLabelVersionEntity & { evaluationCount: number })[]> {
    await this.get(principal, id);
    const rows = await this.db.query<
      (EvaluationLabelVersionEntity & { evaluationCount: number })[]
    >(
      `SELECT ${this.versionColumns},
              (SELECT count(*)::int FROM run_evaluations e
                WHERE e.account_id = v.account_id AND e.evaluation_label_id = v.label_id
                  AND e.label_version = v.version) AS "evaluationCount"
         FROM evaluation_label_versions v
        WHERE v.account_id = $1 AND v.label_id = $2 ORDER BY v.version`,
      [principal.accountId, id],
    );
    return rows;
  }

  /**
   * The label a PATCH asks for. While evaluations use the label, a breaking change of its
   * scale (§14) makes a new version and a compatible one widens the current version; an
   * unused label's only version simply changes.
   */
  private async plan(
    tx: EntityManager,
    principal: Principal,
    label: EvaluationLabelEntity,
    dto: UpdateEvaluationLabelDto,
  ): Promise<Planned> {
    refuseNulls(dto, ['name', 'value_type']);
    const next: LabelDefinition = {
      name: dto.name ?? label.name,
      valueType: dto.value_type ?? label.valueType,
      minValue: dto.min_value !== undefined ? dto.min_value : label.minValue,
      maxValue: dto.max_value !== undefined ? dto.max_value : label.maxValue,
      categories: dto.categories !== undefined ? dto.categories : label.categories,
    };
    checkDefinition(next);
    const higher = higherIsBetter(next.valueType, dto.higher_is_better, label.higherIsBetter);
    const breaking = breakingChanges(label, next);
    const newVersion = breaking.length > 0 && (await this.inUse(tx, principal, label.id));
    return { next, higherIsBetter: higher, breaking, newVersion };
  }

  private versionOf(
    label: EvaluationLabelEntity,
    scale: Scale,
    principal: Principal,
    at: Date,
  ): EvaluationLabelVersionEntity {
    return Object.assign(new EvaluationLabelVersionEntity(), {
      accountId: label.accountId,
      labelId: label.id,
      version: label.version,
      ...scaleOf(scale),
      createdBy: principal.sub,
      createdAt: at,
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

  /**
   * Reads a label to change it, locked FOR UPDATE: writers of new evaluations wait for it
   * (FOR SHARE to read it while nobody changes it).
   */
  private async lock(
    tx: EntityManager,
    principal: Principal,
    id: string,
    mode: 'FOR UPDATE' | 'FOR SHARE' = 'FOR UPDATE',
  ): Promise<EvaluationLabelEntity> {
    const [row] = await tx.query<EvaluationLabelEntity[] | []>(
      `SELECT ${this.columns} FROM evaluation_labels WHERE account_id = $1 AND id = $2 ${mode}`,
      [principal.accountId, id],
    );
    if (!row) throw notFound(id);
    // An entity instance, so that a later tx.save() knows what it saves.
    return Object.assign(new EvaluationLabelEntity(), row);
  }

  /**
   * A label as JSON, for a statement that reads it beside a row that uses it: `account` and
   * `id` are SQL expressions of that statement; `versioned`, with its row version.
   */
  rowJson(account: string, id: string, versioned = false): string {
    const columns = versioned ? `${this.columns}, xmin::text AS "version$"` : this.columns;
    return `(SELECT row_to_json(l) FROM (SELECT ${columns} FROM evaluation_labels
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

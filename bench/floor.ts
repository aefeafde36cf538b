// The floor's work, shared by the bare baseline (baseline.ts) and the minimal Nest app
// (nest-floor.ts): the same statements, so that the two differ only in the stack around
// them. Each write is one statement, one round trip: the evaluations, their change rows,
// their outbox row (the events, as Assay's outbox keeps them) and, with an Idempotency-Key,
// the key with its answer.
import { createHash, randomBytes } from 'node:crypto';

export interface Principal {
  accountId: string;
  sub: string;
  evaluatorId: string | null;
}

export interface NewItem {
  runId: string;
  labelId: string;
  value: number;
  outputName: string | null;
}

/** An Idempotency-Key and the fingerprint of its request. */
export interface KeyClaim {
  key: string;
  fingerprint: string;
}

export type Row = Record<string, unknown>;

export class FloorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Assay's default IDEMPOTENCY_TTL, in seconds. */
const KEY_TTL = 86_400;
// SQLSTATE of assay_require when the key was taken (src/writes/write-pipeline.ts).
const KEY_TAKEN = 'AS002';

export function uuid(value: string): string {
  if (!UUID.test(value)) throw new FloorError(400, 'bad uuid');
  return value.toLowerCase();
}

/** `n` UUIDv7 in order, from one draw of random bytes, as Assay makes event ids. */
export function orderedIds(n: number): string[] {
  const ms = Date.now().toString(16).padStart(12, '0');
  const random = randomBytes(8 * n).toString('hex');
  return Array.from({ length: n }, (_, i) => {
    const counter = i.toString(16).padStart(3, '0').slice(-3);
    const r = random.slice(16 * i, 16 * i + 16);
    return `${ms.slice(0, 8)}-${ms.slice(8)}-7${counter}-${'89ab'[parseInt(r[0], 16) & 3]}${r.slice(1, 4)}-${r.slice(4, 16)}`;
  });
}

/** A request's fingerprint for its Idempotency-Key: method, path and body. */
export const fingerprint = (method: string, path: string, body: unknown) =>
  createHash('sha256')
    .update(`${method} ${path} ${JSON.stringify(body)}`)
    .digest('hex');

/** An evaluation as the API shows it, built by the database. */
const VIEW = (r: string) => `json_build_object('id', ${r}.id, 'account_id', ${r}.account_id,
  'run_id', ${r}.run_id, 'output_name', ${r}.output_name, 'field_path', ${r}.field_path,
  'evaluation_label_id', ${r}.evaluation_label_id, 'value', ${r}.value,
  'created_by', ${r}.created_by, 'created_by_evaluator_id', ${r}.created_by_evaluator_id,
  'created_at', ${r}.created_at, 'updated_by', ${r}.updated_by, 'updated_at', ${r}.updated_at)`;

/** The event's data: the evaluation with its label version, and `more`. */
const EVENT_DATA = (r: string, more = '') =>
  `(${VIEW(r)}::jsonb || jsonb_build_object('label_version', ${r}.label_version${more}))`;

/** The WHERE that makes value `v` fit label `l` (live), and an output name fit run `r`. */
const FITS = (v: string) => `l.archived_at IS NULL
  AND CASE l.value_type
        WHEN 'binary' THEN ${v} IN (0, 1)
        WHEN 'continuous' THEN ${v} BETWEEN l.min_value AND l.max_value
        ELSE ${v} = trunc(${v}) AND ${v} >= 0 AND ${v} < jsonb_array_length(l.categories)
      END`;

/** The claim of a key with its answer (`body`, a json expression), in the write's statement. */
const CLAIM = (body: string, first: number) => `INSERT INTO idempotency_keys AS k
    (account_id, key, fingerprint, status, headers, body, created_at, expires_at)
  SELECT $1, $${first}, $${first + 1}, 201, '{}', (${body})::text, now(),
         now() + make_interval(secs => ${KEY_TTL})
   WHERE EXISTS (SELECT 1 FROM ins)
  ON CONFLICT (account_id, key) DO UPDATE
     SET fingerprint = EXCLUDED.fingerprint, body = EXCLUDED.body,
         created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
   WHERE k.expires_at <= now()
  RETURNING 1`;

/**
 * Creates evaluations in one statement: runs and labels locked FOR SHARE, every item
 * checked, and, only when all fit, the evaluations, their change rows, their events (one
 * outbox row) and the key inserted. Answers how many items were missing or did not fit,
 * and the answer as JSON text: the evaluation, or for several the created ones in order.
 */
function createSql(
  p: Principal,
  items: NewItem[],
  claim?: KeyClaim,
): { sql: string; params: unknown[] } {
  const now = new Date();
  const ids = orderedIds(items.length);
  const eventIds = orderedIds(items.length);
  const params: unknown[] = [
    p.accountId,
    JSON.stringify(
      items.map((i, n) => ({
        id: ids[n],
        event_id: eventIds[n],
        run_id: i.runId,
        label_id: i.labelId,
        value: i.value,
        output_name: i.outputName,
      })),
    ),
    p.evaluatorId ? null : p.sub,
    p.evaluatorId,
    now,
    eventIds[0],
    eventIds.at(-1),
  ];
  if (claim) params.push(claim.key, claim.fingerprint);
  // The answer: the evaluation, or a batch's in order.
  const created =
    items.length === 1
      ? `(SELECT ${VIEW('ins')} FROM ins)`
      : `(SELECT coalesce(json_agg(${VIEW('ins')} ORDER BY ins.id), '[]') FROM ins)`;
  const sql = `WITH i AS (
       SELECT * FROM json_to_recordset($2::json)
         AS t(id uuid, event_id uuid, run_id uuid, label_id uuid, value float8, output_name text)),
     r AS (SELECT id, outputs FROM runs
            WHERE account_id = $1 AND id IN (SELECT run_id FROM i) FOR SHARE),
     l AS (SELECT * FROM evaluation_labels
            WHERE account_id = $1 AND id IN (SELECT label_id FROM i) FOR SHARE),
     checked AS (
       SELECT i.*, l.version AS label_version, r.id IS NOT NULL AND l.id IS NOT NULL AS found,
              coalesce(r.id IS NOT NULL AND l.id IS NOT NULL AND ${FITS('i.value')}
                AND (i.output_name IS NULL OR r.outputs IS NULL OR r.outputs ? i.output_name),
                false) AS fits
         FROM i LEFT JOIN r ON r.id = i.run_id LEFT JOIN l ON l.id = i.label_id),
     ins AS (
       INSERT INTO run_evaluations (id, account_id, run_id, output_name, field_path,
         evaluation_label_id, value, label_version, created_by, created_by_evaluator_id,
         created_at, updated_by, updated_at)
       SELECT id, $1, run_id, output_name, NULL, label_id, value, label_version, $3, $4, $5, NULL, $5
         FROM checked WHERE (SELECT bool_and(fits) FROM checked)
       RETURNING *),
     ch AS (
       INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation,
         old_value, new_value, old_label_version, new_label_version, changed_by,
         changed_by_evaluator_id, changed_at)
       SELECT $1, run_id, id, 'create', NULL, value, NULL, label_version, $3, $4, $5 FROM ins),
     ob AS (
       INSERT INTO outbox_writes (account_id, first_id, last_id, count, occurred_at, events)
       SELECT $1, $6, $7, count(*), $5,
              json_agg(json_build_object('id', i.event_id, 'type', 'evaluation.created',
                'data', ${EVENT_DATA('ins')}) ORDER BY ins.id)
         FROM ins JOIN i USING (id) HAVING count(*) > 0)
     ${claim ? `, key AS (${CLAIM(created, 8)})` : ''}
     SELECT (SELECT count(*) FROM checked WHERE NOT found)::int AS missing,
            (SELECT count(*) FROM checked WHERE found AND NOT fits)::int AS unfit,
            ${created}::text AS created
            ${claim ? `, assay_require(NOT EXISTS (SELECT 1 FROM ins) OR EXISTS (SELECT 1 FROM key), '${KEY_TAKEN}', 'key taken')` : ''}`;
  return { sql, params };
}

/** The answer stored under a key, for a request whose key was taken. */
const STORED_ANSWER_SQL = `SELECT fingerprint, status, body FROM idempotency_keys
  WHERE account_id = $1 AND key = $2 AND expires_at > now()`;

/**
 * Changes an evaluation's value in one statement: the evaluation locked, its label read,
 * the value checked, and, when it fits, the update, its change row and its event. Answers
 * whether the evaluation was found and the updated evaluation as JSON text (null when the
 * value did not fit).
 */
function updateSql(
  p: Principal,
  runId: string,
  id: string,
  value: number,
): { sql: string; params: unknown[] } {
  const [eventId] = orderedIds(1);
  return {
    sql: `WITH e AS (
       SELECT * FROM run_evaluations WHERE account_id = $1 AND run_id = $2 AND id = $3 FOR UPDATE),
     l AS (SELECT l.* FROM evaluation_labels l JOIN e
             ON l.account_id = e.account_id AND l.id = e.evaluation_label_id),
     upd AS (
       UPDATE run_evaluations u SET value = $4, label_version = l.version, updated_by = $5,
              updated_at = $6
         FROM e, l WHERE u.id = e.id AND ${FITS('$4::float8')}
       RETURNING u.*),
     ch AS (
       INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation,
         old_value, new_value, old_label_version, new_label_version, changed_by,
         changed_by_evaluator_id, changed_at)
       SELECT $1, upd.run_id, upd.id, 'update', e.value, upd.value, e.label_version,
              upd.label_version, $5, NULL, $6 FROM upd, e),
     ob AS (
       INSERT INTO outbox_writes (account_id, first_id, last_id, count, occurred_at, events)
       SELECT $1, $7, $7, 1, $6, json_build_array(json_build_object('id', $7::uuid,
                'type', 'evaluation.updated', 'data',
                ${EVENT_DATA('upd', ", 'old_value', e.value, 'old_label_version', e.label_version")}))
         FROM upd, e)
     SELECT EXISTS (SELECT 1 FROM e) AS found, (SELECT ${VIEW('upd')} FROM upd)::text AS updated`,
    params: [p.accountId, runId, id, value, p.sub, new Date(), eventId],
  };
}

export const GET_ONE_SQL =
  'SELECT * FROM run_evaluations WHERE account_id = $1 AND run_id = $2 AND id = $3';
export const RUN_EXISTS_SQL = 'SELECT 1 FROM runs WHERE account_id = $1 AND id = $2';
export const LIST_SQL = `SELECT * FROM run_evaluations WHERE account_id = $1 AND run_id = $2
  ORDER BY created_at, id LIMIT $3`;

/** An evaluation row as the API shows it. */
export const view = (r: Row) => ({
  id: r.id,
  account_id: r.account_id,
  run_id: r.run_id,
  output_name: r.output_name,
  field_path: r.field_path,
  evaluation_label_id: r.evaluation_label_id,
  value: r.value,
  created_by: r.created_by,
  created_by_evaluator_id: r.created_by_evaluator_id,
  created_at: r.created_at,
  updated_by: r.updated_by,
  updated_at: r.updated_at,
});

/** Sends a statement, answering its rows: pg's pool, or TypeORM's data source. */
export type Query = (sql: string, params: unknown[]) => Promise<Row[]>;

/**
 * Creates evaluations and answers the status and JSON text to send; a key already taken
 * gets its stored answer. Refusals are thrown.
 */
export async function create(
  query: Query,
  p: Principal,
  items: NewItem[],
  claim: KeyClaim | undefined,
): Promise<{ status: number; body: string }> {
  const { sql, params } = createSql(p, items, claim);
  let result: Row;
  try {
    [result] = await query(sql, params);
  } catch (err) {
    // TypeORM's QueryFailedError carries the driver's code as pg's error does.
    if (!claim || (err as { code?: string }).code !== KEY_TAKEN) throw err;
    const [stored] = await query(STORED_ANSWER_SQL, [p.accountId, claim.key]);
    if (stored?.fingerprint !== claim.fingerprint) throw new FloorError(422, 'key reused');
    return { status: stored.status as number, body: stored.body as string };
  }
  if ((result.missing as number) > 0) throw new FloorError(404, 'run or label not found');
  if ((result.unfit as number) > 0) throw new FloorError(422, 'value does not fit');
  return { status: 201, body: result.created as string };
}

/** Changes an evaluation's value, answering it as JSON text; refusals are thrown. */
export async function update(
  query: Query,
  p: Principal,
  runId: string,
  id: string,
  value: number,
): Promise<string> {
  const { sql, params } = updateSql(p, uuid(runId), uuid(id), value);
  const [result] = await query(sql, params);
  if (!result.found) throw new FloorError(404, 'evaluation not found');
  if (result.updated === null) throw new FloorError(422, 'value does not fit');
  return result.updated as string;
}

// SQLSTATE of assay_require when a review was not recorded (src/writes/write-pipeline.ts).
const NOT_RECORDED = 'AS001';

/**
 * A review of one evaluation in one statement, reading nothing first: the item (`item`, a
 * query of its run_id, output_name and reviews), the item's run and the label locked FOR
 * SHARE, the value checked, the evaluation with its change row, its event and the item's
 * completion event in one outbox row, and the review itself (`record`: CTEs ending with
 * `rec`, the review's id, only when the evaluation was inserted). $1 account, $2 queue,
 * $3 item, $4 label, $5 value, $6 the evaluation's id, $7 the reviewer, $8 now, $9 the
 * review's id, $10 and $11 the events' ids.
 */
const reviewSql = (item: string, record: string) => `WITH it AS (${item}),
     q AS (SELECT xmin::text AS version FROM review_queues
            WHERE account_id = $1 AND id = $2 AND archived_at IS NULL
              AND label_ids @> jsonb_build_array($4::uuid::text)),
     r AS (SELECT r.id, r.outputs FROM runs r JOIN it ON r.id = it.run_id
            WHERE r.account_id = $1 FOR SHARE OF r),
     l AS (SELECT * FROM evaluation_labels WHERE account_id = $1 AND id = $4::uuid FOR SHARE),
     checked AS (
       SELECT it.run_id, it.output_name, l.version AS label_version
         FROM it JOIN r ON true JOIN l ON true JOIN q ON true
        WHERE ${FITS('$5::float8')}
          AND (it.output_name IS NULL OR r.outputs IS NULL OR r.outputs ? it.output_name)),
     ins AS (
       INSERT INTO run_evaluations (id, account_id, run_id, output_name, field_path,
         evaluation_label_id, value, label_version, created_by, created_by_evaluator_id,
         created_at, updated_by, updated_at)
       SELECT $6, $1, run_id, output_name, NULL, $4, $5, label_version, $7, NULL, $8, NULL, $8
         FROM checked
       RETURNING *),
     ch AS (
       INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation,
         old_value, new_value, old_label_version, new_label_version, changed_by,
         changed_by_evaluator_id, changed_at)
       SELECT $1, run_id, id, 'create', NULL, value, NULL, label_version, $7, NULL, $8 FROM ins),
     ${record},
     ob AS (
       INSERT INTO outbox_writes (account_id, first_id, last_id, count, occurred_at, events)
       SELECT $1, $10, $11, 2, $8, json_build_array(
                json_build_object('id', $10::uuid, 'type', 'evaluation.created',
                  'data', ${EVENT_DATA('ins')}),
                json_build_object('id', $11::uuid, 'type', 'review_queue.item_completed',
                  'data', json_build_object('id', $3::uuid, 'queue_id', $2::uuid,
                    'review_ids', json_build_array(rec.id))))
         FROM ins, rec)
     SELECT assay_require(EXISTS (SELECT 1 FROM rec), '${NOT_RECORDED}', 'not recorded'),
            json_build_object('id', $9::uuid, 'evaluations',
              json_build_array((SELECT ${VIEW('ins')} FROM ins)))::text AS review`;

/** The two statements of a review queue's claim and review ($1 account, $2 queue, $3 reviewer). */
export interface QueueStatements {
  claim: string;
  review: string;
}

/**
 * Assay's: the claim is its own function; the review reads the item as queued and is
 * recorded through assay_record_review (which locks the queue and the item and counts the
 * places).
 */
export const ASSAY_QUEUES: QueueStatements = {
  claim: 'SELECT * FROM assay_claim_review($1, $2, $3)',
  review: reviewSql(
    `SELECT run_id, output_name, reviews FROM review_queue_items
    WHERE account_id = $1 AND queue_id = $2 AND id = $3`,
    `rec AS (
       SELECT assay_record_review($1, $2, (SELECT version FROM q), $3, $7,
                (SELECT reviews FROM it), $9, NULL, ARRAY[$6]::uuid[], $8) AS id
        WHERE EXISTS (SELECT 1 FROM ins))`,
  ),
};

/**
 * The least a review queue can be, for one review per item: the reservation kept on the
 * item's own row (one reviewer, until when), so that a claim is one UPDATE of that row and a
 * review one more UPDATE of it and the review's row. No check that the item's run is still
 * there, no count of places: what Assay's claim and review do beyond these is theirs alone.
 */
export const LEAST_TABLES = `
  CREATE TABLE IF NOT EXISTS least_review_items (account_id varchar(200) NOT NULL,
    id uuid NOT NULL, queue_id uuid NOT NULL, run_id uuid NOT NULL, output_name text,
    reviews integer NOT NULL DEFAULT 0, holder text, held_until timestamptz,
    completed_at timestamptz, created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, id)) WITH (fillfactor = 70);
  CREATE INDEX IF NOT EXISTS least_review_items_open ON least_review_items
    (account_id, queue_id, created_at, id) WHERE completed_at IS NULL;
  CREATE TABLE IF NOT EXISTS least_reviews (account_id varchar(200) NOT NULL, id uuid NOT NULL,
    item_id uuid NOT NULL, reviewer text NOT NULL, evaluation_ids uuid[] NOT NULL,
    created_at timestamptz NOT NULL, PRIMARY KEY (account_id, id));
  CREATE UNIQUE INDEX IF NOT EXISTS least_reviews_reviewer ON least_reviews
    (account_id, item_id, reviewer)`;

export const LEAST_QUEUES: QueueStatements = {
  claim: `UPDATE least_review_items i
    SET holder = $3, held_until = now() + interval '900 seconds'
  WHERE i.account_id = $1 AND i.id = (
    SELECT c.id FROM least_review_items c
     WHERE c.account_id = $1 AND c.queue_id = $2 AND c.completed_at IS NULL
       AND (c.holder IS NULL OR c.held_until < now() OR c.holder = $3)
     ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING i.id, i.queue_id, i.run_id, i.output_name, i.reviews, i.created_at,
            i.held_until AS expires_at`,
  review: reviewSql(
    `SELECT run_id, output_name, reviews FROM least_review_items
    WHERE account_id = $1 AND queue_id = $2 AND id = $3 AND holder = $7 AND completed_at IS NULL`,
    `up AS (
       UPDATE least_review_items i SET reviews = i.reviews + 1, completed_at = $8, holder = NULL
        WHERE i.account_id = $1 AND i.id = $3 AND EXISTS (SELECT 1 FROM ins)
       RETURNING i.id),
     rec AS (
       INSERT INTO least_reviews (account_id, id, item_id, reviewer, evaluation_ids, created_at)
       SELECT $1, $9, $3, $7, ARRAY[$6]::uuid[], $8 FROM up
       RETURNING id)`,
  ),
};

/**
 * Reserves the next item of a review queue for the reviewer, one statement of `queues`.
 * Answers the item and when its reservation expires, or undefined when none is left.
 */
export async function claim(
  query: Query,
  queues: QueueStatements,
  p: Principal,
  queueId: string,
): Promise<Row | undefined> {
  const [claimed] = await query(queues.claim, [p.accountId, uuid(queueId), p.sub]);
  return claimed;
}

/**
 * Records a review of one evaluation in one statement of `queues` (reviewSql). Answers the
 * review as JSON text; refusals are thrown.
 */
export async function review(
  query: Query,
  queues: QueueStatements,
  p: Principal,
  queueId: string,
  itemId: string,
  labelId: string,
  value: number,
): Promise<string> {
  const [id, reviewId, ...eventIds] = orderedIds(4);
  try {
    const [result] = await query(queues.review, [
      p.accountId,
      uuid(queueId),
      uuid(itemId),
      uuid(labelId),
      value,
      id,
      p.sub,
      new Date(),
      reviewId,
      ...eventIds,
    ]);
    return result.review as string;
  } catch (err) {
    if ((err as { code?: string }).code !== NOT_RECORDED) throw err;
    throw new FloorError(409, 'the item, the queue, the run or the label refused the review');
  }
}

import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type request from 'supertest';
import { bearer } from './app.js';

type Http = ReturnType<typeof request>;

export interface Created {
  id: string;
  [key: string]: unknown;
}

async function created(res: Promise<request.Response>): Promise<Created> {
  const r = await res;
  if (r.status !== 201) throw new Error(`expected 201, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as Created;
}

export function createLabel(
  http: Http,
  body: Record<string, unknown> = {},
  auth = bearer(),
): Promise<Created> {
  return created(
    http
      .post('/v1/evaluation-labels')
      .set(auth)
      .send({
        name: `label-${randomUUID()}`,
        ...(body.value_type ? {} : { value_type: 'continuous', min_value: 0, max_value: 5 }),
        ...body,
      }),
  );
}

export function createRun(
  http: Http,
  body: Record<string, unknown> = {},
  auth = bearer(),
): Promise<Created> {
  return created(http.post('/v1/runs').set(auth).send(body));
}

export function createEvaluator(
  http: Http,
  body: Record<string, unknown> = {},
  auth = bearer(),
): Promise<Created> {
  return created(
    http
      .post('/v1/evaluators')
      .set(auth)
      .send({ name: `judge-${randomUUID()}`, kind: 'llm_judge', ...body }),
  );
}

export function createEvaluation(
  http: Http,
  runId: string,
  body: Record<string, unknown>,
  auth = bearer(),
): Promise<Created> {
  return created(http.post(`/v1/run/${runId}/evaluations`).set(auth).send(body));
}

/** A new label and run, and an evaluation of 1 on it: the path of that evaluation. */
export async function scoredRun(http: Http, auth = bearer()) {
  const label = await createLabel(http, {}, auth);
  const run = await createRun(http, {}, auth);
  const evaluation = await createEvaluation(
    http,
    run.id,
    { evaluation_label_id: label.id, value: 1 },
    auth,
  );
  return { label, run, evaluation, path: `/v1/run/${run.id}/evaluation/${evaluation.id}` };
}

/** Inserts evaluations straight into the table: for specs that need thousands of rows. */
export async function insertEvaluations(
  ds: DataSource,
  accountId: string,
  runId: string,
  labelId: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  const base = Date.UTC(2026, 0, 1);
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const id = randomUUID();
      ids.push(id);
      // Several rows share each timestamp, so paging must break ties by id.
      const at = new Date(base + Math.floor(i / 3)).toISOString();
      rows.push(
        `('${id}', '${accountId}', '${runId}', '${labelId}', ${i % 5}, 'seed', '${at}', '${at}')`,
      );
    }
    await ds.query(
      `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value, created_by, created_at, updated_at, label_version)
       SELECT v.id::uuid, v.account_id, v.run_id::uuid, v.label_id::uuid, v.value, v.created_by,
              v.created_at::timestamptz, v.updated_at::timestamptz, l.version
         FROM (VALUES ${rows.join(',')}) AS v(id, account_id, run_id, label_id, value, created_by, created_at, updated_at)
         JOIN evaluation_labels l ON l.account_id = v.account_id AND l.id = v.label_id::uuid`,
    );
  }
  return ids;
}

import type { ListRunEvaluationsQueryDto } from './dto/create-run-evaluation.dto.js';

/** Adds the list filters of §3 that a query sets to `where`, as $n parameters of `params`. */
export function addListFilters(
  query: ListRunEvaluationsQueryDto,
  where: string[],
  params: unknown[],
): void {
  const filters = {
    evaluation_label_id: query.evaluation_label_id?.toLowerCase(),
    output_name: query.output_name,
    created_by: query.created_by,
    created_by_evaluator_id: query.created_by_evaluator_id?.toLowerCase(),
  };
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
}

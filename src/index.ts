// The package entry for Nest apps that host Assay's modules.
export {
  AssayModule,
  type AssayModuleAsyncOptions,
  type AssayModuleOptions,
} from './assay.module.js';
export type { JwtVerification } from './auth/jwt-options.js';
export type { Principal } from './auth/principal.js';
export { ENTITIES as ASSAY_ENTITIES } from './database/data-source-options.js';
export { MIGRATIONS as ASSAY_MIGRATIONS } from './database/migrations/index.js';
export { EvaluationLabelsService } from './evaluation-labels/evaluation-labels.service.js';
export { EvaluationsService } from './evaluations/evaluations.service.js';
export { EvaluatorsService } from './evaluators/evaluators.service.js';
export { type AssayHttpOptions, configureAssayHttp } from './http/configure-http.js';
export { ReviewQueuesService } from './review-queues/review-queues.service.js';
export { RunsService } from './runs/runs.service.js';
export { EvaluationListService } from './stats/evaluation-list.service.js';
export { StatsService } from './stats/stats.service.js';

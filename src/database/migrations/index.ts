import { Initial1795535239826 } from './1795535239826-Initial.js';
import { WritePipeline1795621556467 } from './1795621556467-WritePipeline.js';
import { StatsIndexesAndDirection1795700000000 } from './1795700000000-StatsIndexesAndDirection.js';
import { WriteGuards1795800000000 } from './1795800000000-WriteGuards.js';
import { OutboxPositions1795900000000 } from './1795900000000-OutboxPositions.js';
import { OutboxWrites1796000000000 } from './1796000000000-OutboxWrites.js';
import { LabelVersions1796100000000 } from './1796100000000-LabelVersions.js';
import { Webhooks1796200000000 } from './1796200000000-Webhooks.js';
import { ReviewQueues1796400000000 } from './1796400000000-ReviewQueues.js';
import { ReviewsAtOnce1796500000000 } from './1796500000000-ReviewsAtOnce.js';
import { ClaimsReadTheRun1796600000000 } from './1796600000000-ClaimsReadTheRun.js';
import { ClaimsProbeEachItem1796700000000 } from './1796700000000-ClaimsProbeEachItem.js';
import { PositionsByIndex1796800000000 } from './1796800000000-PositionsByIndex.js';

/** Every migration, oldest first. Listed, not globbed, so that tests and builds load the same set. */
export const MIGRATIONS = [
  Initial1795535239826,
  WritePipeline1795621556467,
  StatsIndexesAndDirection1795700000000,
  WriteGuards1795800000000,
  OutboxPositions1795900000000,
  OutboxWrites1796000000000,
  LabelVersions1796100000000,
  Webhooks1796200000000,
  ReviewQueues1796400000000,
  ReviewsAtOnce1796500000000,
  ClaimsReadTheRun1796600000000,
  ClaimsProbeEachItem1796700000000,
  PositionsByIndex1796800000000,
];

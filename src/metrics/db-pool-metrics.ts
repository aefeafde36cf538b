import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { Gauge, register } from 'prom-client';
import type { DataSource } from 'typeorm';

export const DB_CONNECTIONS = 'db_client_connection_count';
export const DB_PENDING = 'db_client_connection_pending_requests';
export const DB_MAX = 'db_client_connection_max';
const NAMES = [DB_CONNECTIONS, DB_PENDING, DB_MAX];

/** Registers the pool's gauges, each read from the pool when /metrics is scraped. */
function registerPoolGauges(pool: Pool): void {
  new Gauge({
    name: DB_CONNECTIONS,
    help: 'Connections of the database pool, by state (used: lent to a request).',
    labelNames: ['db_client_connection_state'],
    collect() {
      this.set({ db_client_connection_state: 'used' }, pool.totalCount - pool.idleCount);
      this.set({ db_client_connection_state: 'idle' }, pool.idleCount);
    },
  });
  new Gauge({
    name: DB_PENDING,
    help: 'Requests waiting for a connection of the database pool.',
    collect() {
      this.set(pool.waitingCount);
    },
  });
  new Gauge({
    name: DB_MAX,
    help: 'The most connections the database pool opens.',
    collect() {
      this.set(pool.options.max ?? 10);
    },
  });
}

/**
 * The pg pool's connections in use and idle, the requests waiting for one, and its size,
 * under OpenTelemetry's db.client.connection.* names. They cost nothing per request. On the
 * embedded database (one in-process connection, no pool) they are left out.
 */
@Injectable()
export class DbPoolMetrics implements OnModuleInit, OnModuleDestroy {
  private registered = false;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  onModuleInit(): void {
    const pool = (this.db.driver as { master?: Partial<Pool> }).master;
    if (typeof pool?.totalCount !== 'number') return;
    // The latest app's pool is the one measured (tests start several apps in one process).
    for (const name of NAMES) register.removeSingleMetric(name);
    registerPoolGauges(pool as Pool);
    this.registered = true;
  }

  onModuleDestroy(): void {
    if (this.registered) for (const name of NAMES) register.removeSingleMetric(name);
  }
}

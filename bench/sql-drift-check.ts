import 'reflect-metadata';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/observability/logger';
import { startService } from '../src/main';
import type { CardSet } from './cards';
import { GrpcWorkload } from './grpc-workload';
import type { Operation } from './scenarios';
import { SqlWorkload } from './sql-workload';
import type { Workload } from './workload';

/** mysql2 publishes every text-protocol statement here (its diagnostics_channel tracing). */
const QUERY_START_CHANNEL = 'tracing:mysql2:query:start';
const CHECKED: readonly Operation[] = ['redeem', 'inquiry', 'reload', 'issue'];

/** A statement with its literal values blanked, so two calls of one operation compare equal. */
export function statementShape(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/X'[0-9a-fA-F]*'/g, '?')
    .replace(/'(?:[^'\\]|\\.)*'/g, '?')
    .replace(/\b(?:NULL|true|false)\b/g, '?')
    .replace(/(?<![\w`])-?\d+(?:\.\d+)?\b/g, '?')
    .trim();
}

/** Which traced statements count: all of them, or (for the service) only those a call sent. */
type StatementFilter = () => boolean;

async function traceStatements(work: () => Promise<void>, counts: StatementFilter): Promise<string[]> {
  const statements: string[] = [];
  const onStart = (message: unknown): void => {
    const query = (message as { query?: unknown }).query;
    if (typeof query === 'string' && counts()) statements.push(statementShape(query));
  };
  subscribe(QUERY_START_CHANNEL, onStart);
  try {
    await work();
  } finally {
    unsubscribe(QUERY_START_CHANNEL, onStart);
  }
  return statements;
}

async function traceOperations(
  workload: Workload,
  cards: CardSet,
  tag: string,
  counts: StatementFilter,
): Promise<Map<Operation, string[]>> {
  const traces = new Map<Operation, string[]>();
  for (const operation of CHECKED) {
    const idempotencyKey = `drift-${tag}-${operation}-${Date.now()}`;
    traces.set(
      operation,
      await traceStatements(() => workload.perform({ operation, card: cards.hot, idempotencyKey, user: 0 }), counts),
    );
  }
  return traces;
}

/**
 * mysql2 publishes a statement synchronously in the async context of the code that sends it. The
 * service runs with tracing on here, so every statement a call sends has the call's span active;
 * the service's own background statements (the database health probe's `SELECT 1` on its own
 * connection, the idempotency purge) have none and are not part of any operation.
 */
const sentByACall: StatementFilter = () => trace.getActiveSpan() !== undefined;
const everyStatement: StatementFilter = () => true;

/**
 * Runs each operation once through the real service (in this process, on its own pool) and once
 * through the SQL ceiling, with mysql2's statement tracing on, and fails the bench when the two
 * sequences differ: the database ceiling is only meaningful while it sends exactly what the
 * service sends. Both start from fresh pools, so the once-per-connection session settings line up.
 * The ceiling's process sends nothing else; of the service's statements, those of its calls count.
 */
export async function checkSqlDrift(
  databaseUrl: string,
  serviceEnv: Readonly<Record<string, string>>,
  cards: CardSet,
): Promise<void> {
  const config = loadConfig({ ...serviceEnv, DATABASE_URL: databaseUrl, GRPC_HOST: '127.0.0.1', GRPC_PORT: '0' });
  const service = await startService(config, createLogger('error'), { spanExporter: new InMemorySpanExporter() });
  const grpc = new GrpcWorkload(`127.0.0.1:${service.server.port}`, 1);
  let serviceTraces: Map<Operation, string[]>;
  try {
    serviceTraces = await traceOperations(grpc, cards, 'service', sentByACall);
  } finally {
    await grpc.close();
    await service.stop();
  }
  const sql = new SqlWorkload({ databaseUrl, connections: 1, lockWaitTimeoutSeconds: config.dbLockWaitTimeoutSeconds });
  let ceilingTraces: Map<Operation, string[]>;
  try {
    ceilingTraces = await traceOperations(sql, cards, 'ceiling', everyStatement);
  } finally {
    await sql.close();
  }
  const problems: string[] = [];
  for (const operation of CHECKED) {
    const expected = serviceTraces.get(operation) ?? [];
    const actual = ceilingTraces.get(operation) ?? [];
    if (expected.length === 0) problems.push(`${operation}: traced no service statements (is mysql2 tracing on?)`);
    if (expected.join('\n') !== actual.join('\n')) {
      problems.push(
        `${operation}:\n  service sends:\n    ${expected.join('\n    ')}\n  ceiling sends:\n    ${actual.join('\n    ')}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `the SQL ceiling (bench/sql-workload.ts) no longer sends what the service sends; update it:\n${problems.join('\n')}`,
    );
  }
}

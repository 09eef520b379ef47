import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { DataSource, QueryRunner } from 'typeorm';

/** The statement's first word (SELECT, UPDATE, COMMIT, ...): a span name with few distinct values. */
function operationOf(sql: string): string {
  return /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
}

/**
 * A span for every statement the service sends, under the span of the call that sent it. Every
 * statement, in a transaction or not, goes through a TypeORM query runner that the data source
 * creates, so wrapping the runners it hands out covers them all. The statement is recorded as
 * written, with `?` placeholders: values (card hashes, amounts) never reach a span.
 *
 * Written here rather than with @opentelemetry/instrumentation-mysql2: that package patches mysql2
 * through require hooks, which miss a module loaded before them (and jest's module registry), and
 * it stopped producing spans on mysql2 3.11.5 (opentelemetry-js-contrib issue 2590).
 */
export function traceQueries(dataSource: DataSource, tracer: Tracer): void {
  const createQueryRunner = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = (...args: Parameters<DataSource['createQueryRunner']>): QueryRunner => {
    const runner = createQueryRunner(...args);
    const query = runner.query.bind(runner);
    runner.query = ((sql: string, parameters?: unknown[], useStructuredResult?: boolean) =>
      tracer.startActiveSpan(
        `db ${operationOf(sql)}`,
        { kind: SpanKind.CLIENT, attributes: { 'db.system': 'mysql', 'db.statement': sql } },
        async (span) => {
          try {
            return await query(sql, parameters, useStructuredResult as true);
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            throw error;
          } finally {
            span.end();
          }
        },
      )) as QueryRunner['query'];
    return runner;
  };
}

/**
 * The same span for the single-card path's round trips, which go through a mysql2 pool of their
 * own: one span per round trip, named by its first statement, recorded as written (`?` kept).
 */
export function roundTripTracer(tracer: Tracer): <T>(sql: string, send: () => Promise<T>) => Promise<T> {
  return (sql, send) =>
    tracer.startActiveSpan(
      `db ${operationOf(sql)}`,
      { kind: SpanKind.CLIENT, attributes: { 'db.system': 'mysql', 'db.statement': sql } },
      async (span) => {
        try {
          return await send();
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

import type { SparseHistogram } from './histogram';
import type { Scenario } from './scenarios';

/**
 * Where a cell's calls go: the gRPC server under test (service or no-op), or MySQL directly with
 * the service's statements (sql) or a textbook's (textbook).
 */
export type Target =
  | { readonly kind: 'grpc'; readonly address: string }
  | { readonly kind: 'sql'; readonly databaseUrl: string }
  | { readonly kind: 'textbook'; readonly databaseUrl: string };

/** One load generator's share of one measured cell. */
export interface LoadJob {
  readonly target: Target;
  readonly scenario: Scenario;
  /** Global index of this loader's first virtual user, and how many it runs. */
  readonly firstUser: number;
  readonly users: number;
  /** Virtual users over all loaders: the cell's concurrency. */
  readonly totalUsers: number;
  /** gRPC connections this loader opens; users share them round-robin. */
  readonly channels: number;
  /** Wall-clock instants (epoch ms): calls completing before warmupEndsAt are not counted. */
  readonly warmupEndsAt: number;
  readonly endsAt: number;
  readonly cardsPath: string;
  /** Makes idempotency keys unique across cells and runs. */
  readonly keyPrefix: string;
}

export interface LoadResult {
  /** Calls answered OK inside the measured window. */
  readonly ok: number;
  /** Failed calls inside the window, by gRPC status name or MySQL error code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Latency of the OK calls. */
  readonly latency: SparseHistogram;
  /** CPU the load generator itself used in the window, in seconds. */
  readonly loaderCpuSeconds: number;
}

export type ToLoader = { readonly type: 'run'; readonly job: LoadJob } | { readonly type: 'exit' };

export type FromLoader =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'failed'; readonly message: string };

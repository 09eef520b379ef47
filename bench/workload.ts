import type { BenchCard } from './cards';
import type { Operation } from './scenarios';

/** One call a virtual user is about to make. */
export interface PlannedCall {
  readonly operation: Operation;
  readonly card: BenchCard;
  /** Unique per call: every bench request is a new one, never a replay. */
  readonly idempotencyKey: string;
  readonly user: number;
}

/** How a load generator reaches its target: the same calls, over gRPC or as raw SQL. */
export interface Workload {
  /** Makes the call; rejects with the target's error. */
  perform(call: PlannedCall): Promise<void>;
  /** A short name for a failure, counted in the report: a gRPC status name or a MySQL error code. */
  classify(error: unknown): string;
  close(): Promise<void>;
}

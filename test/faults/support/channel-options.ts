import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * A caller that expects instances to restart reconnects quickly: grpc-js would otherwise back off
 * up to two minutes after a few failed connects, long after the server is back.
 */
export const FAST_RECONNECT: ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

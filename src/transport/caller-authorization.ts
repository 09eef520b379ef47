import type { ServerUnaryCall } from '@grpc/grpc-js';
import { callerNotAllowed, callerUnauthenticated } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Caller, CallerPolicy } from '../security/callers';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Who sent the call, and whether they may call this RPC (SPEC §12). Every refusal is logged with
 * what the operator needs to find the caller (peer address, certificate subject, RPC) and never
 * the token itself.
 */
export function authorizeCall(
  policy: CallerPolicy,
  call: ServerUnaryCall<unknown, unknown>,
  rpc: string,
  requestId: string,
  log: Logger,
): Caller {
  const header = call.metadata.get('authorization')[0];
  let bearerToken: string | null = null;
  if (header !== undefined) {
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (match?.[1] === undefined) {
      log.warn('call refused', {
        rpc,
        requestId,
        code: 'Unauthenticated',
        why: 'authorization is not "Bearer <token>"',
        peer: call.getPeer(),
      });
      throw callerUnauthenticated();
    }
    bearerToken = match[1];
  }
  // Only looked up when no token decides: reading the peer certificate copies it out of OpenSSL.
  const certificate = bearerToken === null ? (call.getAuthContext().sslPeerCertificate ?? null) : null;
  const identified = policy.identify({ bearerToken, certificate });
  if (!identified.ok) {
    log.warn('call refused', {
      rpc,
      requestId,
      code: 'Unauthenticated',
      why: identified.why,
      peer: call.getPeer(),
      certificateSubject: certificate === null ? undefined : JSON.stringify(certificate.subject),
    });
    throw callerUnauthenticated();
  }
  if (!policy.mayCall(identified.caller, rpc)) {
    log.warn('call refused', {
      rpc,
      requestId,
      code: 'PermissionDenied',
      caller: identified.caller.name,
      peer: call.getPeer(),
    });
    throw callerNotAllowed(identified.caller.name, rpc);
  }
  return identified.caller;
}

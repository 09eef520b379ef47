import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ErrorReason as ContractReason } from '../../gen/giftcard/v1/error_reason';
import { DomainError, ErrorReason } from '../../src/domain/errors';
import { domainErrorStatus } from '../../src/transport/error-status';

const ROOT = join(__dirname, '..', '..');

/** The reasons a caller can receive, by the contract: every ErrorReason value but the zero value. */
const contractReasons = Object.keys(ContractReason).filter(
  (name) => Number.isNaN(Number(name)) && name !== 'ERROR_REASON_UNSPECIFIED' && name !== 'UNRECOGNIZED',
);

function codeName(reason: ErrorReason): string {
  return GrpcStatus[domainErrorStatus(new DomainError(reason, 'probe')).code ?? GrpcStatus.UNKNOWN];
}

/** The `| reason | code |` rows of docs/errors.md. */
function documentedCodes(): Map<string, string> {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  return new Map([...doc.matchAll(/^\| `([A-Z_]+)` \| `([A-Z_]+)` \|/gm)].map((row) => [row[1]!, row[2]!]));
}

/** The gRPC code each ErrorReason value's comment in the proto starts with. */
function protoCommentCodes(): Map<string, string> {
  const proto = readFileSync(join(ROOT, 'proto', 'giftcard', 'v1', 'error_reason.proto'), 'utf8');
  return new Map(
    [...proto.matchAll(/^ {2}\/\/ ([A-Z_]+):[^]*?^ {2}([A-Z_]+) = \d+;/gm)].map((match) => [match[2]!, match[1]!]),
  );
}

describe('error catalogue', () => {
  it('names the same reasons in the domain as the contract’s ErrorReason enum', () => {
    expect([...Object.values(ErrorReason)].sort()).toEqual([...contractReasons].sort());
  });

  it('documents every reason in docs/errors.md with the code the error table gives it, and nothing else', () => {
    const expected = new Map(Object.values(ErrorReason).map((reason) => [reason, codeName(reason)]));
    expect(Object.fromEntries(documentedCodes())).toEqual(Object.fromEntries(expected));
  });

  it('starts each reason’s comment in the proto with the code the error table gives it', () => {
    const expected = new Map(Object.values(ErrorReason).map((reason) => [reason, codeName(reason)]));
    expect(Object.fromEntries(protoCommentCodes())).toEqual(Object.fromEntries(expected));
  });
});

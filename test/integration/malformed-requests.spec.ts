import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileRegistry, fromBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardServiceService } from '../../gen/giftcard/v1/gift_card_service';
import { generateCardNumber } from '../../src/domain/card-number';
import { issueCard } from '../support/builders';
import { decodeRpcError } from '../support/rpc-error';
import { rawConnection } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

/**
 * No request, however malformed, may get INTERNAL (or UNKNOWN) or change state. Every RPC of the
 * service is covered, built or not, from the service definition itself, so a new RPC is covered the
 * day it is declared. Two generators: well-formed messages with hostile field values, and raw bytes
 * that are not valid protobuf at all (truncated varints, bad UTF-8 in strings, wrong wire types).
 */

let svc: TestService;
let db: Connection;
let raw: Client;
let existingCard: { giftCardId: string; transactionId: string };

/** Runs per RPC and generator; enough to hit every validation branch, small enough for CI. */
const RUNS_PER_RPC = 40;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

beforeAll(async () => {
  svc = await startTestService();
  db = await rawConnection();
  raw = new Client(svc.address, credentials.createInsecure());
  existingCard = await issueCard(svc.api);
});

afterAll(async () => {
  raw.close();
  await db.end();
  await svc.stop();
});

/** A fingerprint of every table the service writes; equal before and after means nothing changed. */
async function stateChecksum(): Promise<string> {
  const [rows] = await db.query<RowDataPacket[]>(
    'CHECKSUM TABLE gift_card, ledger_entry, idempotency_record, card_access, card_hold, hold_event EXTENDED',
  );
  return rows.map((r) => `${String(r.Table)}=${String(r.Checksum)}`).join(',');
}

function callRaw(path: string, bytes: Buffer): Promise<{ code: status; fields: string[] }> {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      new Metadata(),
      { deadline: Date.now() + 20_000 },
      (error: ServiceError | null) => {
        resolve(
          error
            ? { code: error.code, fields: decodeRpcError(error).fieldViolations.map((v) => v.field) }
            : { code: status.OK, fields: [] },
        );
      },
    );
  });
}

/** Values that get past some checks and not others, mixed with pure noise. */
const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.constantFrom('', ' ', 'USD', 'usd', 'XXX', '12345678', '00000000', 'k'.repeat(65), 'user-1', '\u0000', '\uFFFD'),
    fc.constant(generateCardNumber()),
    fc.uuid(),
    fc.constant('a'.repeat(5000)),
  );

const hostileBigint = (): fc.Arbitrary<bigint> =>
  fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.constantFrom(0n, -1n, 1n, INT64_MIN, INT64_MAX));

const hostileInt32 = (): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, -1, 1, 101, 2 ** 31 - 1));

const hostileDate = (): fc.Arbitrary<Date | undefined> =>
  fc.option(fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }), { nil: undefined });

/** google.protobuf.Duration: seconds anywhere in int64, nanos anywhere in int32 (valid or not). */
const hostileDuration = (): fc.Arbitrary<{ seconds: bigint; nanos: number } | undefined> =>
  fc.option(fc.record({ seconds: hostileBigint(), nanos: hostileInt32() }), { nil: undefined });

/** Builds an arbitrary for a request message from the shape of its default instance. */
function requestArbitrary(defaults: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, value] of Object.entries(defaults)) {
    if (typeof value === 'string') {
      fields[name] =
        name === 'giftCardId' || name === 'transactionId'
          ? fc.oneof(hostileString(), fc.constant(existingCard.giftCardId), fc.constant(existingCard.transactionId))
          : hostileString();
    } else if (typeof value === 'bigint') fields[name] = hostileBigint();
    else if (typeof value === 'boolean') fields[name] = fc.boolean();
    else if (typeof value === 'number') fields[name] = hostileInt32();
    else if (Array.isArray(value)) fields[name] = fc.array(hostileString(), { maxLength: 30 });
    // Unset by default: a message field, told apart by its AIP-142 name (a *_time is a Timestamp, a
    // *_duration a Duration), or a field with presence (`optional`).
    else if (value === undefined) fields[name] = unsetField(name);
    else throw new Error(`no generator for field ${name}`);
  }
  return fc.record(fields);
}

function unsetField(name: string): fc.Arbitrary<unknown> {
  if (name.endsWith('Time')) return hostileDate();
  if (name.endsWith('Duration')) return hostileDuration();
  return fc.option(fc.boolean(), { nil: undefined });
}

/** Bytes that are not a valid message: random noise plus hand-made broken encodings. */
const malformedBytes = (): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b)),
    // Field 1 as a string holding invalid UTF-8.
    fc.constant(Buffer.from([0x0a, 0x02, 0xff, 0xfe])),
    // A varint that never ends.
    fc.constant(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
    // A length prefix longer than the message.
    fc.constant(Buffer.from([0x0a, 0x7f, 0x41])),
    // Field 1 with the end-group wire type, which proto3 never uses.
    fc.constant(Buffer.from([0x0c])),
  );

const rpcs = Object.entries(GiftCardServiceService).map(([name, method]) => ({ name, method }));

const contract = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(join(__dirname, '..', '..', 'gen', 'giftcard.binpb'))),
);

function requestMessage(path: string): DescMessage {
  const [, serviceName, methodName] = path.split('/');
  return contract.getService(serviceName!)!.methods.find((m) => m.name === methodName)!.input;
}

/** Whether a BadRequest field path (`sourceGiftCardIds[2]`) names a field of the request by its JSON name. */
function isJsonFieldPath(message: DescMessage, path: string): boolean {
  let current: DescMessage | undefined = message;
  for (const segment of path.split('.')) {
    const field: DescField | undefined = current?.fields.find((f) => f.jsonName === segment.replace(/\[\d+\]$/, ''));
    if (field === undefined) return false;
    current = field.message;
  }
  return true;
}

describe('Malformed requests', () => {
  it.each(rpcs)(
    'never answer $name with INTERNAL or change state when refused, and name bad fields by JSON name',
    async ({ method }) => {
      const defaults = method.requestDeserialize(Buffer.alloc(0)) as unknown as Record<string, unknown>;
      const messages = requestArbitrary(defaults).map((fields) => method.requestSerialize(fields as never));
      await fc.assert(
        fc.asyncProperty(fc.oneof(messages, malformedBytes()), async (bytes) => {
          const before = await stateChecksum();
          const answer = await callRaw(method.path, bytes);
          expect([status.INTERNAL, status.UNKNOWN]).not.toContain(answer.code);
          if (answer.code !== status.OK) expect(await stateChecksum()).toBe(before);
          // A message that does not decode has no fields to name; the empty path stands for all of it.
          const named = answer.fields.filter((field) => field !== '');
          expect(named.filter((field) => !isJsonFieldPath(requestMessage(method.path), field))).toEqual([]);
        }),
        { numRuns: RUNS_PER_RPC * 2 },
      );
    },
  );
});

/** A streaming call's first answer: the status it ended with, or OK once a message arrived. */
function firstAnswer(stream: NodeJS.EventEmitter & { cancel(): void }): Promise<status> {
  return new Promise((resolve) => {
    stream.on('data', () => {
      stream.cancel();
      resolve(status.OK);
    });
    stream.on('error', (error: ServiceError) => {
      resolve(error.code);
    });
    stream.on('end', () => {
      resolve(status.OK);
    });
  });
}

// Reflection answers garbage on its own stream: server-reflection.spec.ts.
describe('Malformed requests to health', () => {
  /**
   * Bytes the libraries' protobufjs decoder refuses; it reads invalid UTF-8 and a string cut short
   * as a service name, which is then answered as one (NOT_FOUND).
   */
  const garbage = [
    // The end-group wire type, which proto3 never uses.
    Buffer.from([0x0c]),
    // A varint that never ends.
    Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from('not a protobuf message at all'),
  ];

  it('answers garbage sent to grpc.health.v1.Health/Check with INVALID_ARGUMENT', async () => {
    for (const bytes of garbage) {
      expect((await callRaw('/grpc.health.v1.Health/Check', bytes)).code).toBe(status.INVALID_ARGUMENT);
    }
  });

  it('answers garbage sent to grpc.health.v1.Health/Watch with INVALID_ARGUMENT', async () => {
    for (const bytes of garbage) {
      const stream = raw.makeServerStreamRequest(
        '/grpc.health.v1.Health/Watch',
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        { deadline: Date.now() + 20_000 },
      );
      expect(await firstAnswer(stream)).toBe(status.INVALID_ARGUMENT);
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileRegistry, fromBinary, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ReflectionSession, type ReflectionVersion } from '../support/reflection-client';
import { startTestService, type TestService } from '../support/test-service';

/** Status codes of reflection's ErrorResponse. */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
/** The number google/api/annotations.proto gives the `google.api.http` method option. */
const HTTP_RULE_EXTENSION = 72295728;

/** What `buf build` wrote to gen/giftcard.binpb, file by file, as raw bytes. */
function builtFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const reader = new BinaryReader(readFileSync(join(__dirname, '..', '..', 'gen', 'giftcard.binpb')));
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) {
      const bytes = reader.bytes();
      files.set(fromBinary(FileDescriptorProtoSchema, bytes).name, bytes);
    } else reader.skip(wireType);
  }
  return files;
}

interface Resolved {
  readonly registry: FileRegistry;
  /** Every file fetched by name, as served. */
  readonly served: Map<string, Uint8Array>;
}

/**
 * grpcurl's way: file_containing_symbol for the service, then file_by_filename for each import,
 * recursively, and a registry built from what was served and nothing else. The registry is strict:
 * a missing import or a type name it cannot find throws.
 */
async function resolveAsGrpcurl(session: ReflectionSession, symbol: string): Promise<Resolved> {
  const answer = await session.ask({ fileContainingSymbol: symbol });
  if (answer.error) throw new Error(`file_containing_symbol ${symbol}: ${answer.error.message}`);
  const root = fromBinary(FileDescriptorProtoSchema, answer.files[0]!);
  const served = new Map<string, Uint8Array>();
  const parsed = new Map<string, FileDescriptorProto>();
  const fetch = async (name: string): Promise<void> => {
    if (served.has(name)) return;
    const byName = await session.ask({ fileByFilename: name });
    if (byName.error) throw new Error(`file_by_filename ${name}: ${byName.error.message}`);
    const file = fromBinary(FileDescriptorProtoSchema, byName.files[0]!);
    if (file.name !== name) throw new Error(`asked for ${name}, got ${file.name}`);
    served.set(name, byName.files[0]!);
    parsed.set(name, file);
    for (const dependency of file.dependency) await fetch(dependency);
  };
  await fetch(root.name);
  const registry = createFileRegistry(parsed.get(root.name)!, (name) => parsed.get(name));
  return { registry, served };
}

/** Fields whose message or enum type the registry did not link. */
function unresolvedFields(registry: FileRegistry): string[] {
  const missing: string[] = [];
  for (const type of registry) {
    if (type.kind !== 'message') continue;
    for (const field of type.fields) {
      const kind =
        field.fieldKind === 'list' ? field.listKind : field.fieldKind === 'map' ? field.mapKind : field.fieldKind;
      const linked = (field as { message?: unknown; enum?: unknown })[kind === 'message' ? 'message' : 'enum'];
      if ((kind === 'message' || kind === 'enum') && linked === undefined)
        missing.push(`${type.typeName}.${field.name}`);
    }
  }
  return missing;
}

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService();
});

afterAll(async () => {
  await svc.stop();
});

describe.each<ReflectionVersion>(['v1', 'v1alpha'])('Server reflection (grpc.reflection.%s)', (version) => {
  let session: ReflectionSession;

  beforeEach(() => {
    session = new ReflectionSession(svc.address, version);
  });

  afterEach(() => {
    session.close();
  });

  it('lists the gift card service, health and both reflection versions', async () => {
    const { services } = await session.ask({ listServices: true });
    expect([...services].sort()).toEqual([
      'giftcard.v1.GiftCardService',
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ]);
  });

  it('resolves every listed service import by import into a strict registry, every method and field type linked', async () => {
    const { services } = await session.ask({ listServices: true });
    expect(services.length).toBeGreaterThan(0);
    for (const name of services) {
      const { registry } = await resolveAsGrpcurl(session, name);
      const service = registry.getService(name);
      expect(service?.typeName).toBe(name);
      for (const method of service!.methods) {
        expect(registry.getMessage(method.input.typeName)).toBe(method.input);
        expect(registry.getMessage(method.output.typeName)).toBe(method.output);
      }
      expect(unresolvedFields(registry)).toEqual([]);
    }
  });

  it('resolves google.protobuf.Timestamp where the contract uses it', async () => {
    const { registry } = await resolveAsGrpcurl(session, 'giftcard.v1.GiftCardService');
    const expireTime = registry
      .getMessage('giftcard.v1.IssueVirtualCardRequest')
      ?.fields.find((f) => f.name === 'expire_time');
    expect(expireTime?.message?.typeName).toBe('google.protobuf.Timestamp');
    expect(expireTime?.message?.file.proto.name).toBe('google/protobuf/timestamp.proto');
  });

  it('serves every file of the descriptor set by name, byte for byte as buf build wrote it', async () => {
    const built = builtFiles();
    const differing: string[] = [];
    for (const [name, bytes] of built) {
      const answer = await session.ask({ fileByFilename: name });
      const served = answer.files[0];
      if (served === undefined) differing.push(`${name}: ${answer.error?.message ?? 'no file'}`);
      else if (!Buffer.from(served).equals(Buffer.from(bytes))) differing.push(`${name}: bytes differ`);
    }
    expect(differing).toEqual([]);
    expect(built.has('grpc/health/v1/health.proto')).toBe(true);
  });

  it('answers file_containing_symbol with the file first and then its transitive imports', async () => {
    const answer = await session.ask({ fileContainingSymbol: 'giftcard.v1.GiftCardService.Redeem' });
    const names = answer.files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
    expect(names[0]).toBe('giftcard/v1/gift_card_service.proto');
    expect([...names].sort()).toEqual(
      [
        'giftcard/v1/card_activity.proto',
        'giftcard/v1/card_lifecycle.proto',
        'giftcard/v1/gift_card.proto',
        'giftcard/v1/gift_card_service.proto',
        'giftcard/v1/holds.proto',
        'giftcard/v1/reconciliation.proto',
        'giftcard/v1/reversal.proto',
        'google/api/annotations.proto',
        'google/api/http.proto',
        'google/protobuf/descriptor.proto',
        'google/protobuf/duration.proto',
        'google/protobuf/timestamp.proto',
      ].sort(),
    );
  });

  it('finds the google.api.http option by extension number, and lists the extensions of MethodOptions', async () => {
    const byExtension = await session.ask({
      fileContainingExtension: {
        containingType: 'google.protobuf.MethodOptions',
        extensionNumber: HTTP_RULE_EXTENSION,
      },
    });
    expect(fromBinary(FileDescriptorProtoSchema, byExtension.files[0]!).name).toBe('google/api/annotations.proto');
    const numbers = await session.ask({ allExtensionNumbersOfType: 'google.protobuf.MethodOptions' });
    expect(numbers.extensionNumbers).toEqual([HTTP_RULE_EXTENSION]);
  });

  it('answers NOT_FOUND for an unknown file, symbol or type, and keeps answering on the same stream', async () => {
    expect((await session.ask({ fileByFilename: 'giftcard/v1/nope.proto' })).error?.code).toBe(NOT_FOUND);
    expect((await session.ask({ fileContainingSymbol: 'giftcard.v1.Nope' })).error?.code).toBe(NOT_FOUND);
    expect((await session.ask({ allExtensionNumbersOfType: 'giftcard.v1.Nope' })).error?.code).toBe(NOT_FOUND);
    expect((await session.ask({ listServices: true })).services).toContain('giftcard.v1.GiftCardService');
  });

  it('answers a request that is not a valid message, or asks nothing, with INVALID_ARGUMENT on the same stream', async () => {
    // A length prefix longer than the message, then an empty request with no question in it.
    expect((await session.askRaw(Buffer.from([0x1a, 0x7f, 0x41]))).error?.code).toBe(INVALID_ARGUMENT);
    expect((await session.askRaw(Buffer.alloc(0))).error?.code).toBe(INVALID_ARGUMENT);
    expect((await session.ask({ listServices: true })).services).toContain('giftcard.v1.GiftCardService');
  });
});

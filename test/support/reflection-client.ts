import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';

/**
 * A server reflection client written from reflection.proto's field numbers, sharing no code with
 * the server: it speaks the protocol the way grpcurl's client does, one stream, one answer per
 * request, in order.
 */
export type ReflectionVersion = 'v1' | 'v1alpha';

export type ReflectionQuery =
  | { readonly listServices: true }
  | { readonly fileByFilename: string }
  | { readonly fileContainingSymbol: string }
  | { readonly fileContainingExtension: { readonly containingType: string; readonly extensionNumber: number } }
  | { readonly allExtensionNumbersOfType: string };

export interface ReflectionAnswer {
  /** FileDescriptorProto bytes exactly as the server sent them. */
  readonly files: Uint8Array[];
  readonly services: string[];
  readonly extensionNumbers: number[];
  readonly error?: { readonly code: number; readonly message: string };
}

// ServerReflectionRequest and ServerReflectionResponse field numbers (same in v1 and v1alpha).
const REQUEST = {
  fileByFilename: 3,
  fileContainingSymbol: 4,
  fileContainingExtension: 5,
  allExtensionNumbersOfType: 6,
  listServices: 7,
};
const RESPONSE = {
  fileDescriptorResponse: 4,
  allExtensionNumbersResponse: 5,
  listServicesResponse: 6,
  errorResponse: 7,
};

function encode(query: ReflectionQuery): Buffer {
  const writer = new BinaryWriter();
  if ('listServices' in query) writer.tag(REQUEST.listServices, WireType.LengthDelimited).string('*');
  else if ('fileByFilename' in query)
    writer.tag(REQUEST.fileByFilename, WireType.LengthDelimited).string(query.fileByFilename);
  else if ('fileContainingSymbol' in query)
    writer.tag(REQUEST.fileContainingSymbol, WireType.LengthDelimited).string(query.fileContainingSymbol);
  else if ('allExtensionNumbersOfType' in query)
    writer.tag(REQUEST.allExtensionNumbersOfType, WireType.LengthDelimited).string(query.allExtensionNumbersOfType);
  else {
    writer.tag(REQUEST.fileContainingExtension, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(query.fileContainingExtension.containingType);
    writer.tag(2, WireType.Varint).int32(query.fileContainingExtension.extensionNumber);
    writer.join();
  }
  return Buffer.from(writer.finish());
}

/** Calls `onField` for each field of a message; the callback reads the value or the field is skipped. */
function readFields(
  bytes: Uint8Array,
  onField: (field: number, reader: BinaryReader, wireType: WireType) => boolean,
): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (!onField(field, reader, wireType)) reader.skip(wireType);
  }
}

function decode(bytes: Buffer): ReflectionAnswer {
  const files: Uint8Array[] = [];
  const services: string[] = [];
  const extensionNumbers: number[] = [];
  let error: ReflectionAnswer['error'];
  readFields(bytes, (field, reader) => {
    if (field === RESPONSE.fileDescriptorResponse) {
      readFields(reader.bytes(), (f, r) => f === 1 && files.push(r.bytes()) > 0);
    } else if (field === RESPONSE.listServicesResponse) {
      readFields(reader.bytes(), (f, r) => {
        if (f !== 1) return false;
        readFields(r.bytes(), (nameField, nameReader) => nameField === 1 && services.push(nameReader.string()) > 0);
        return true;
      });
    } else if (field === RESPONSE.allExtensionNumbersResponse) {
      readFields(reader.bytes(), (f, r, wireType) => {
        if (f !== 2) return false;
        if (wireType === WireType.LengthDelimited) {
          const packed = new BinaryReader(r.bytes());
          while (packed.pos < packed.len) extensionNumbers.push(packed.int32());
        } else extensionNumbers.push(r.int32());
        return true;
      });
    } else if (field === RESPONSE.errorResponse) {
      let code = 0;
      let message = '';
      readFields(reader.bytes(), (f, r) => {
        if (f === 1) code = r.int32();
        else if (f === 2) message = r.string();
        else return false;
        return true;
      });
      error = { code, message };
    } else return false;
    return true;
  });
  return { files, services, extensionNumbers, ...(error === undefined ? {} : { error }) };
}

export class ReflectionSession {
  private readonly client: Client;
  private readonly stream: ClientDuplexStream<Buffer, Buffer>;
  private readonly waiting: { resolve: (answer: ReflectionAnswer) => void; reject: (error: Error) => void }[] = [];

  constructor(address: string, version: ReflectionVersion) {
    this.client = new Client(address, credentials.createInsecure());
    this.stream = this.client.makeBidiStreamRequest(
      `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      (request: Buffer) => request,
      (response: Buffer) => response,
    );
    this.stream.on('data', (response: Buffer) => this.waiting.shift()?.resolve(decode(response)));
    this.stream.on('error', (error: Error) => {
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    });
  }

  ask(query: ReflectionQuery): Promise<ReflectionAnswer> {
    return this.askRaw(encode(query));
  }

  /** Sends bytes as they are: for requests no well-behaved client would write. */
  askRaw(request: Buffer): Promise<ReflectionAnswer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.stream.write(request);
    });
  }

  close(): void {
    this.stream.end();
    this.client.close();
  }
}

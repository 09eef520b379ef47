import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  FileDescriptorProto,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
} from '../../../gen/google/protobuf/descriptor';

/** `FileDescriptorSet.file`: the one field of the set. */
const FILE_FIELD = 1;

interface CatalogFile {
  /** The file exactly as `buf build` wrote it, never re-encoded. */
  readonly bytes: Buffer;
  readonly dependencies: readonly string[];
}

/** A fully qualified name without the leading dot descriptors use for references. */
function qualified(name: string): string {
  return name.startsWith('.') ? name.slice(1) : name;
}

/**
 * Every file of the contract's descriptor set, answering the questions server reflection asks:
 * a file by name, the file defining a symbol or an extension, the extensions of a type. Files are
 * kept as the bytes buf wrote, so a client builds exactly the descriptors protoc would.
 */
export class DescriptorCatalog {
  private readonly files = new Map<string, CatalogFile>();
  private readonly fileBySymbol = new Map<string, string>();
  /** Extended type -> extension number -> file declaring the extension. */
  private readonly extensions = new Map<string, Map<number, string>>();
  readonly serviceNames: string[] = [];

  constructor(descriptorSet: Uint8Array) {
    const reader = new BinaryReader(descriptorSet);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === FILE_FIELD && wireType === WireType.LengthDelimited) this.add(Buffer.from(reader.bytes()));
      else reader.skip(wireType);
    }
  }

  /** The named file first, then each file it imports, transitively, that `alreadySent` lacks. */
  fileWithDependencies(name: string, alreadySent: Set<string>): Buffer[] | undefined {
    const requested = this.files.get(name);
    if (requested === undefined) return undefined;
    const answer = [requested.bytes];
    alreadySent.add(name);
    const queue = [...requested.dependencies];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const file = this.files.get(next);
      if (file === undefined || alreadySent.has(next)) continue;
      alreadySent.add(next);
      answer.push(file.bytes);
      queue.push(...file.dependencies);
    }
    return answer;
  }

  fileNameOfSymbol(symbol: string): string | undefined {
    return this.fileBySymbol.get(qualified(symbol));
  }

  fileNameOfExtension(extendedType: string, number: number): string | undefined {
    return this.extensions.get(qualified(extendedType))?.get(number);
  }

  /** The numbers of the extensions of a message type; undefined when the type is unknown. */
  extensionNumbersOf(messageType: string): number[] | undefined {
    const name = qualified(messageType);
    if (!this.fileBySymbol.has(name)) return undefined;
    return [...(this.extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  private add(bytes: Buffer): void {
    const file = FileDescriptorProto.decode(bytes);
    // descriptor.proto is proto2: every name is optional on the wire, though protoc always sets it.
    const fileName = file.name ?? '';
    this.files.set(fileName, { bytes, dependencies: file.dependency });
    const scope = file.package === undefined || file.package === '' ? '' : `${file.package}.`;
    const define = (symbol: string): void => {
      this.fileBySymbol.set(symbol, fileName);
    };
    const addExtensions = (extensions: readonly FieldDescriptorProto[], prefix: string): void => {
      for (const extension of extensions) {
        define(`${prefix}${extension.name ?? ''}`);
        const extended = qualified(extension.extendee ?? '');
        const numbers = this.extensions.get(extended) ?? new Map<number, string>();
        numbers.set(extension.number ?? 0, fileName);
        this.extensions.set(extended, numbers);
      }
    };
    // Enum values are scoped like their enum's siblings, as in C++: `giftcard.v1.GIFT_CARD_STATUS_ACTIVE`.
    const addEnums = (enums: readonly EnumDescriptorProto[], prefix: string): void => {
      for (const enumType of enums) {
        define(`${prefix}${enumType.name ?? ''}`);
        for (const value of enumType.value) define(`${prefix}${value.name ?? ''}`);
      }
    };
    const addMessages = (messages: readonly DescriptorProto[], prefix: string): void => {
      for (const message of messages) {
        const name = `${prefix}${message.name ?? ''}`;
        define(name);
        for (const field of message.field) define(`${name}.${field.name ?? ''}`);
        for (const oneof of message.oneofDecl) define(`${name}.${oneof.name ?? ''}`);
        addEnums(message.enumType, `${name}.`);
        addExtensions(message.extension, `${name}.`);
        addMessages(message.nestedType, `${name}.`);
      }
    };
    addMessages(file.messageType, scope);
    addEnums(file.enumType, scope);
    addExtensions(file.extension, scope);
    for (const service of file.service) {
      const name = `${scope}${service.name ?? ''}`;
      define(name);
      this.serviceNames.push(name);
      for (const method of service.method) define(`${name}.${method.name ?? ''}`);
    }
  }
}

/** Written by `npm run generate` (buf build) from proto/: the contract reflection serves. */
const DESCRIPTOR_SET_FILE = join('gen', 'giftcard.binpb');

export function loadDescriptorCatalog(): DescriptorCatalog {
  // From src/ under ts-jest the repository root is three levels up; from dist/src/ four.
  for (const root of [join(__dirname, '..', '..', '..'), join(__dirname, '..', '..', '..', '..')]) {
    try {
      return new DescriptorCatalog(readFileSync(join(root, DESCRIPTOR_SET_FILE)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Error(`${DESCRIPTOR_SET_FILE} is missing; run \`npm run generate\``);
}

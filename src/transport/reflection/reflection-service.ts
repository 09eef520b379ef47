import { once } from 'node:events';
import { status as GrpcStatus, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  ServerReflectionService as ServerReflectionV1,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from '../../../gen/grpc/reflection/v1/reflection';
import { ServerReflectionService as ServerReflectionV1Alpha } from '../../../gen/grpc/reflection/v1alpha/reflection';
import { isMalformedRequest, withTolerantDecoding } from '../unary';
import type { DescriptorCatalog } from './descriptor-catalog';

type ReflectionCall = ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>;
type Answer = Omit<ServerReflectionResponse, 'validHost' | 'originalRequest'>;

function failure(code: GrpcStatus, errorMessage: string): Answer {
  return { errorResponse: { errorCode: code, errorMessage } };
}

function files(found: Buffer[] | undefined, what: string): Answer {
  return found === undefined
    ? failure(GrpcStatus.NOT_FOUND, `${what} not found`)
    : { fileDescriptorResponse: { fileDescriptorProto: found } };
}

/**
 * One request, answered as grpc-go answers it: a file comes with the files it imports,
 * transitively, less those already sent on this stream; the requested file always comes first.
 */
function answer(catalog: DescriptorCatalog, request: ServerReflectionRequest, sent: Set<string>): Answer {
  if (request.listServices !== undefined) {
    return { listServicesResponse: { service: catalog.serviceNames.map((name) => ({ name })) } };
  }
  if (request.fileByFilename !== undefined) {
    const name = request.fileByFilename;
    return files(catalog.fileWithDependencies(name, sent), `file ${name}`);
  }
  if (request.fileContainingSymbol !== undefined) {
    const symbol = request.fileContainingSymbol;
    const file = catalog.fileNameOfSymbol(symbol);
    return files(file === undefined ? undefined : catalog.fileWithDependencies(file, sent), `symbol ${symbol}`);
  }
  if (request.fileContainingExtension !== undefined) {
    const { containingType, extensionNumber } = request.fileContainingExtension;
    const file = catalog.fileNameOfExtension(containingType, extensionNumber);
    return files(
      file === undefined ? undefined : catalog.fileWithDependencies(file, sent),
      `extension ${extensionNumber} of ${containingType}`,
    );
  }
  if (request.allExtensionNumbersOfType !== undefined) {
    const baseTypeName = request.allExtensionNumbersOfType;
    const extensionNumber = catalog.extensionNumbersOf(baseTypeName);
    return extensionNumber === undefined
      ? failure(GrpcStatus.NOT_FOUND, `type ${baseTypeName} not found`)
      : { allExtensionNumbersResponse: { baseTypeName, extensionNumber } };
  }
  return failure(GrpcStatus.INVALID_ARGUMENT, 'the request asks nothing: set one of its message_request fields');
}

function respond(catalog: DescriptorCatalog, request: unknown, sent: Set<string>): ServerReflectionResponse {
  if (isMalformedRequest(request)) {
    return {
      validHost: '',
      originalRequest: undefined,
      ...failure(GrpcStatus.INVALID_ARGUMENT, 'not a valid message'),
    };
  }
  const asked = request as ServerReflectionRequest;
  return { validHost: asked.host, originalRequest: asked, ...answer(catalog, asked, sent) };
}

function serve(catalog: DescriptorCatalog) {
  return async (call: ReflectionCall): Promise<void> => {
    const sent = new Set<string>();
    try {
      for await (const request of call as AsyncIterable<unknown>) {
        // A client that asks faster than it reads waits here instead of filling the server's memory.
        if (!call.write(respond(catalog, request, sent))) await once(call, 'drain');
      }
      call.end();
    } catch {
      // The client went away mid-stream: nothing is left to answer.
    }
  };
}

/**
 * Server reflection, v1 and v1alpha, answered from the descriptor set `buf build` wrote, so tools
 * such as grpcurl resolve every type, import by import. @grpc/reflection rebuilds descriptors from
 * protobufjs and loses the imports (grpc-node issues 3018, 3034), hence this small module.
 */
export function addReflectionService(server: Server, catalog: DescriptorCatalog): void {
  const handler = { serverReflectionInfo: serve(catalog) };
  server.addService(withTolerantDecoding(ServerReflectionV1), handler);
  server.addService(withTolerantDecoding(ServerReflectionV1Alpha), handler);
}

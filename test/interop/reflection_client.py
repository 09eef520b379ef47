"""Server reflection resolved the way grpcurl resolves it, on Google's C-core gRPC and the C++
protobuf runtime (Debian's python3-grpcio and python3-grpc-tools; run with /usr/bin/python3).

Nothing here comes from the server's code or from gen/: the reflection protocol's messages are
compiled at run time from the vendored reflection.proto text with grpc_tools' protoc, and every
descriptor of the service comes from what the server sends. Pools are strict: the C++
DescriptorPool refuses a file whose imports or types it does not have.
"""

import os
import tempfile

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_tools import protoc

PROTO_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto")
VERSIONS = ("v1", "v1alpha")


def _reflection_messages():
    """The reflection request and response classes for each version, built by protoc from proto/."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "reflection.pb")
        files = ["grpc/reflection/%s/reflection.proto" % v for v in VERSIONS]
        if protoc.main(["protoc", "-I" + PROTO_ROOT, "--descriptor_set_out=" + out] + files) != 0:
            raise RuntimeError("protoc could not compile reflection.proto")
        with open(out, "rb") as f:
            compiled = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for file in compiled.file:
        pool.Add(file)
    factory = message_factory.MessageFactory(pool)
    return {
        v: tuple(
            factory.GetPrototype(pool.FindMessageTypeByName("grpc.reflection.%s.%s" % (v, name)))
            for name in ("ServerReflectionRequest", "ServerReflectionResponse")
        )
        for v in VERSIONS
    }


_MESSAGES = _reflection_messages()


class ReflectionError(Exception):
    pass


class ReflectionSession:
    """One ServerReflectionInfo stream: one request, one answer, in order, as grpcurl's client uses it."""

    def __init__(self, channel, version="v1"):
        self.request_type, response_type = _MESSAGES[version]
        self._requests = _Queue()
        self._responses = channel.stream_stream(
            "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString,
        )(iter(self._requests), timeout=60)

    def ask(self, **query):
        self._requests.put(self.request_type(**query))
        answer = next(self._responses)
        if answer.HasField("error_response"):
            raise ReflectionError(
                "%s: %s (code %d)"
                % (query, answer.error_response.error_message, answer.error_response.error_code)
            )
        return answer

    def list_services(self):
        return [s.name for s in self.ask(list_services="*").list_services_response.service]

    def file_by_filename(self, name):
        return self.ask(file_by_filename=name).file_descriptor_response.file_descriptor_proto[0]

    def close(self):
        self._requests.put(None)
        self._responses.cancel()


class _Queue:
    """A blocking iterator of requests that ends at None."""

    def __init__(self):
        import queue

        self._queue = queue.Queue()

    def put(self, item):
        self._queue.put(item)

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            yield item


class Resolver:
    """A strict pool filled only from reflection, grpcurl's way: file_containing_symbol for the
    symbol, then file_by_filename for each import, recursively, dependencies added first."""

    def __init__(self, session):
        self.session = session
        self.pool = descriptor_pool.DescriptorPool()
        self.factory = message_factory.MessageFactory(self.pool)
        self.served = {}  # file name -> bytes exactly as served by name
        self.protos = {}  # file name -> FileDescriptorProto

    def resolve_symbol(self, symbol):
        answer = self.session.ask(file_containing_symbol=symbol)
        first = descriptor_pb2.FileDescriptorProto.FromString(
            answer.file_descriptor_response.file_descriptor_proto[0]
        )
        self._add_file(first.name)
        return first.name

    def _add_file(self, name):
        if name in self.served:
            return
        data = self.session.file_by_filename(name)
        proto = descriptor_pb2.FileDescriptorProto.FromString(data)
        if proto.name != name:
            raise ReflectionError("asked for %s, got %s" % (name, proto.name))
        self.served[name] = data
        self.protos[name] = proto
        for dependency in proto.dependency:
            self._add_file(dependency)
        # The bytes as served, not a re-encoding: the pool refuses them if an import or a type is missing.
        self.pool.AddSerializedFile(data)

    def message_class(self, full_name):
        if full_name not in self._known_messages():
            self.resolve_symbol(full_name)
        return self.factory.GetPrototype(self.pool.FindMessageTypeByName(full_name))

    def _known_messages(self):
        names = set()

        def walk(prefix, messages):
            for message in messages:
                names.add(prefix + message.name)
                walk(prefix + message.name + ".", message.nested_type)

        for proto in self.protos.values():
            walk(proto.package + "." if proto.package else "", proto.message_type)
        return names


def built_files(path):
    """The files of a FileDescriptorSet as raw bytes, split on the wire format without re-encoding."""
    with open(path, "rb") as f:
        data = f.read()
    files, pos = [], 0

    def varint():
        nonlocal pos
        shift = result = 0
        while True:
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result

    while pos < len(data):
        tag = varint()
        if tag != 0x0A:  # field 1, length-delimited: FileDescriptorSet.file
            raise ValueError("unexpected tag %d in descriptor set" % tag)
        length = varint()
        files.append(data[pos : pos + length])
        pos += length
    return {descriptor_pb2.FileDescriptorProto.FromString(b).name: b for b in files}


def open_channel(address):
    return grpc.insecure_channel(address)

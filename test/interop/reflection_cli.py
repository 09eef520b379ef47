#!/usr/bin/python3
"""grpcurl's list, describe and call, through server reflection only, on C-core gRPC.

grpcurl itself cannot be built here (Debian ships no Go sources for it), so the README's session
is recorded with this: the same reflection requests grpcurl makes (file_containing_symbol, then
file_by_filename for each import into a strict pool, Any types in error details resolved the same
way) and grpcurl's output format.

    /usr/bin/python3 test/interop/reflection_cli.py HOST:PORT list
    /usr/bin/python3 test/interop/reflection_cli.py HOST:PORT describe giftcard.v1.IssueVirtualCardRequest
    /usr/bin/python3 test/interop/reflection_cli.py -d '{"cardNumber": "..."}' HOST:PORT giftcard.v1.GiftCardService/BalanceInquiry
"""

import json
import sys

import grpc
from google.protobuf import descriptor, json_format

from reflection_client import ReflectionSession, Resolver, open_channel

SCALARS = {
    descriptor.FieldDescriptor.TYPE_DOUBLE: "double", descriptor.FieldDescriptor.TYPE_FLOAT: "float",
    descriptor.FieldDescriptor.TYPE_INT64: "int64", descriptor.FieldDescriptor.TYPE_UINT64: "uint64",
    descriptor.FieldDescriptor.TYPE_INT32: "int32", descriptor.FieldDescriptor.TYPE_FIXED64: "fixed64",
    descriptor.FieldDescriptor.TYPE_FIXED32: "fixed32", descriptor.FieldDescriptor.TYPE_BOOL: "bool",
    descriptor.FieldDescriptor.TYPE_STRING: "string", descriptor.FieldDescriptor.TYPE_BYTES: "bytes",
    descriptor.FieldDescriptor.TYPE_UINT32: "uint32", descriptor.FieldDescriptor.TYPE_SFIXED32: "sfixed32",
    descriptor.FieldDescriptor.TYPE_SFIXED64: "sfixed64", descriptor.FieldDescriptor.TYPE_SINT32: "sint32",
    descriptor.FieldDescriptor.TYPE_SINT64: "sint64",
}


class Describer:
    """Prints descriptors as grpcurl does (protoprint: doc comments, fully qualified type names)."""

    def __init__(self, resolver):
        self.resolver = resolver

    def comments(self, file_name, path, indent):
        for location in self.resolver.protos[file_name].source_code_info.location:
            if list(location.path) == path and location.leading_comments:
                text = location.leading_comments.rstrip("\n")
                return "".join("%s//%s\n" % (indent, line) for line in text.split("\n"))
        return ""

    def field_type(self, field):
        if field.type in (descriptor.FieldDescriptor.TYPE_MESSAGE, descriptor.FieldDescriptor.TYPE_ENUM):
            target = field.message_type or field.enum_type
            return "." + target.full_name
        return SCALARS[field.type]

    def message(self, message, path, indent=""):
        out = self.comments(message.file.name, path, indent) + "%smessage %s {\n" % (indent, message.name)
        for index, field in enumerate(message.fields):
            label = "repeated " if field.label == field.LABEL_REPEATED else ""
            proto_field = self.proto_of(message).field[index]
            if proto_field.proto3_optional:
                label = "optional "
            out += self.comments(message.file.name, path + [2, index], indent + "  ")
            out += "%s  %s%s %s = %d;\n" % (indent, label, self.field_type(field), field.name, field.number)
        for index, nested in enumerate(message.nested_types):
            out += self.message(nested, path + [3, index], indent + "  ")
        for index, enum in enumerate(message.enum_types):
            out += self.enum(enum, path + [4, index], indent + "  ")
        return out + "%s}\n" % indent

    def enum(self, enum, path, indent=""):
        out = self.comments(enum.file.name, path, indent) + "%senum %s {\n" % (indent, enum.name)
        for index, value in enumerate(enum.values):
            out += self.comments(enum.file.name, path + [2, index], indent + "  ")
            out += "%s  %s = %d;\n" % (indent, value.name, value.number)
        return out + "%s}\n" % indent

    def method(self, method, path, indent=""):
        stream_in = "stream " if self.method_proto(method).client_streaming else ""
        stream_out = "stream " if self.method_proto(method).server_streaming else ""
        head = "%srpc %s ( %s.%s ) returns ( %s.%s )" % (
            indent, method.name, stream_in, method.input_type.full_name, stream_out, method.output_type.full_name)
        rule = self.http_rule(method)
        body = ";\n" if rule is None else " {\n%s  option (.google.api.http) = { %s };\n%s}\n" % (indent, rule, indent)
        return self.comments(method.containing_service.file.name, path, indent) + head + body

    def service(self, service, path):
        out = self.comments(service.file.name, path, "") + "service %s {\n" % service.name
        for index, method in enumerate(service.methods):
            out += self.method(method, path + [2, index], "  ")
        return out + "}\n"

    def http_rule(self, method):
        options = self.method_proto(method).options
        if not options.ByteSize():
            return None
        pool = self.resolver.pool
        options_class = self.resolver.factory.GetPrototype(pool.FindMessageTypeByName("google.protobuf.MethodOptions"))
        parsed = options_class.FromString(options.SerializeToString())
        extension = pool.FindExtensionByName("google.api.http")
        rule = parsed.Extensions[extension]
        return ", ".join('%s: "%s"' % (f.name, v) for f, v in rule.ListFields())

    def proto_of(self, message):
        path = message.full_name[len(message.file.package) + 1:].split(".")
        node = self.resolver.protos[message.file.name]
        for name in path:
            node = next(m for m in (node.message_type if hasattr(node, "message_type") else node.nested_type) if m.name == name)
        return node

    def method_proto(self, method):
        service = method.containing_service
        proto = self.resolver.protos[service.file.name].service[service.index]
        return proto.method[method.index]

    def describe(self, symbol):
        pool = self.resolver.pool
        for kind, find in (("a service", pool.FindServiceByName), ("a message", pool.FindMessageTypeByName),
                           ("an enum", pool.FindEnumTypeByName), ("a method", pool.FindMethodByName)):
            try:
                found = find(symbol)
            except KeyError:
                continue
            if kind == "a service":
                text = self.service(found, [6, found.index])
            elif kind == "a message":
                text = self.message(found, self.message_path(found))
            elif kind == "an enum":
                text = self.enum(found, self.enum_path(found))
            else:
                text = self.method(found, [6, found.containing_service.index, 2, found.index])
            return "%s is %s:\n%s" % (symbol, kind, text)
        raise KeyError(symbol)

    def message_path(self, message):
        """The source-info path of a message: [4, i] for top level, then [3, j] per nesting level."""
        if message.containing_type is None:
            siblings = self.resolver.protos[message.file.name].message_type
            return [4, [m.name for m in siblings].index(message.name)]
        siblings = self.proto_of(message.containing_type).nested_type
        return self.message_path(message.containing_type) + [3, [m.name for m in siblings].index(message.name)]

    def enum_path(self, enum):
        if enum.containing_type is None:
            siblings = self.resolver.protos[enum.file.name].enum_type
            return [5, [e.name for e in siblings].index(enum.name)]
        siblings = self.proto_of(enum.containing_type).enum_type
        return self.message_path(enum.containing_type) + [4, [e.name for e in siblings].index(enum.name)]


def code_name(code):
    return "".join(part.capitalize() for part in code.name.split("_"))


def call(channel, resolver, method_path, data):
    service_name, method_name = method_path.rsplit("/", 1)
    resolver.resolve_symbol(service_name)
    method = resolver.pool.FindServiceByName(service_name).methods_by_name[method_name]
    request = resolver.message_class(method.input_type.full_name)()
    json_format.Parse(data or "{}", request, descriptor_pool=resolver.pool)
    response_class = resolver.message_class(method.output_type.full_name)
    stub = channel.unary_unary("/%s/%s" % (service_name, method_name),
                               request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=response_class.FromString)
    try:
        response = stub(request, timeout=20)
    except grpc.RpcError as error:
        print("ERROR:\n  Code: %s\n  Message: %s" % (code_name(error.code()), error.details()))
        trailer = dict(error.trailing_metadata() or ())
        if "grpc-status-details-bin" in trailer:
            status = resolver.message_class("google.rpc.Status").FromString(trailer["grpc-status-details-bin"])
            print("  Details:")
            for number, detail in enumerate(status.details, 1):
                resolver.message_class(detail.type_url.split("/")[-1])  # resolve the Any's type by reflection
                as_dict = json_format.MessageToDict(detail, descriptor_pool=resolver.pool)
                print("  %d)\t%s" % (number, json.dumps(as_dict)))
        return 1
    print(json_format.MessageToJson(response, indent=2, descriptor_pool=resolver.pool))
    return 0


def main(argv):
    data = None
    if argv[:1] == ["-d"]:
        data, argv = argv[1], argv[2:]
    address, verb, rest = argv[0], argv[1], argv[2:]
    with open_channel(address) as channel:
        session = ReflectionSession(channel, "v1")
        resolver = Resolver(session)
        try:
            if verb == "list":
                print("\n".join(sorted(session.list_services())))
                return 0
            if verb == "describe":
                resolver.resolve_symbol(rest[0])
                print(Describer(resolver).describe(rest[0]), end="")
                return 0
            return call(channel, resolver, verb, data)
        finally:
            session.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

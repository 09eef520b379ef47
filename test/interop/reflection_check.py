#!/usr/bin/python3
"""The strict reflection check on Google's C-core stack: for grpc.reflection v1 and v1alpha, every
listed service resolved import by import into a strict C++ descriptor pool, every method and field
type linked, every file of gen/giftcard.binpb served byte for byte, the google.api.http extension
found, and calls made with messages built from reflection alone.

    /usr/bin/python3 test/interop/reflection_check.py HOST:PORT
(Debian's python3-grpcio and python3-grpc-tools; `npm run check:reflection-python` starts a
server and runs it.)
"""

import os
import sys

import grpc
from google.protobuf import descriptor

from reflection_client import VERSIONS, ReflectionSession, Resolver, built_files, open_channel

BINPB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "gen", "giftcard.binpb")
HTTP_RULE_EXTENSION = 72295728
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print("%s  %s%s" % ("ok  " if condition else "FAIL", name, "" if condition else ": " + str(detail)))


def attempt(name, work):
    try:
        work()
    except Exception as error:  # noqa: BLE001 - every failure is reported, then counted
        check(name, False, "%s: %s" % (type(error).__name__, error))


def unlinked_fields(pool, protos):
    missing = []

    def walk(prefix, messages):
        for message in messages:
            full = prefix + message.name
            for field in pool.FindMessageTypeByName(full).fields:
                if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE and field.message_type is None:
                    missing.append(field.full_name)
                if field.type == descriptor.FieldDescriptor.TYPE_ENUM and field.enum_type is None:
                    missing.append(field.full_name)
            walk(full + ".", message.nested_type)

    for proto in protos.values():
        walk(proto.package + "." if proto.package else "", proto.message_type)
    return missing


def check_version(channel, version, built):
    session = ReflectionSession(channel, version)
    services = session.list_services()
    check("%s list_services names GiftCardService and Health" % version,
          {"giftcard.v1.GiftCardService", "grpc.health.v1.Health"} <= set(services), services)
    for service in services:
        def resolve(service=service):
            resolver = Resolver(session)
            resolver.resolve_symbol(service)
            methods = resolver.pool.FindServiceByName(service).methods
            linked = all(m.input_type is not None and m.output_type is not None for m in methods)
            check("%s %s: %d files, %d methods, every type linked" % (version, service, len(resolver.served), len(methods)),
                  linked and not unlinked_fields(resolver.pool, resolver.protos),
                  unlinked_fields(resolver.pool, resolver.protos))
        attempt("%s %s resolves" % (version, service), resolve)

    def bytes_equal():
        differing = []
        for name, data in built.items():
            try:
                if session.file_by_filename(name) != data:
                    differing.append(name + ": bytes differ")
            except Exception as error:  # noqa: BLE001
                differing.append("%s: %s" % (name, error))
        check("%s all %d files of gen/giftcard.binpb served byte for byte" % (version, len(built)), not differing, differing)
    attempt("%s byte comparison" % version, bytes_equal)

    def extensions():
        answer = session.ask(file_containing_extension={"containing_type": "google.protobuf.MethodOptions",
                                                        "extension_number": HTTP_RULE_EXTENSION})
        from google.protobuf import descriptor_pb2
        name = descriptor_pb2.FileDescriptorProto.FromString(answer.file_descriptor_response.file_descriptor_proto[0]).name
        numbers = list(session.ask(all_extension_numbers_of_type="google.protobuf.MethodOptions")
                       .all_extension_numbers_response.extension_number)
        check("%s google.api.http found in %s; MethodOptions extensions %s" % (version, name, numbers),
              name == "google/api/annotations.proto" and numbers == [HTTP_RULE_EXTENSION])
    attempt("%s extensions" % version, extensions)
    session.close()


def check_calls(channel):
    """Messages built from reflection only, sent through C-core, answers read back the same way."""
    session = ReflectionSession(channel, "v1")
    resolver = Resolver(session)

    def unary(method, request, response_class):
        return channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=response_class.FromString)(request, timeout=20)

    def health():
        request = resolver.message_class("grpc.health.v1.HealthCheckRequest")(service="giftcard.v1.GiftCardService")
        response = unary("/grpc.health.v1.Health/Check", request, resolver.message_class("grpc.health.v1.HealthCheckResponse"))
        status = resolver.pool.FindEnumTypeByName("grpc.health.v1.HealthCheckResponse.ServingStatus").values_by_number[response.status].name
        check("Health/Check answers %s" % status, status == "SERVING")
    attempt("Health/Check", health)

    def refusal():
        request = resolver.message_class("giftcard.v1.BalanceInquiryRequest")(card_number="1234")
        try:
            unary("/giftcard.v1.GiftCardService/BalanceInquiry", request,
                  resolver.message_class("giftcard.v1.BalanceInquiryResponse"))
            check("BalanceInquiry with a bad card number is refused", False, "it succeeded")
            return
        except grpc.RpcError as error:
            trailer = dict(error.trailing_metadata() or ())
            status = resolver.message_class("google.rpc.Status").FromString(trailer["grpc-status-details-bin"])
            kinds = {}
            for detail in status.details:
                type_name = detail.type_url.split("/")[-1]
                kinds[type_name] = resolver.message_class(type_name).FromString(detail.value)
            info = kinds.get("google.rpc.ErrorInfo")
            bad = kinds.get("google.rpc.BadRequest")
            fields = [v.field for v in bad.field_violations] if bad else []
            check("BalanceInquiry refused %s, ErrorInfo %s, BadRequest fields %s"
                  % (error.code().name, info.reason if info else None, fields),
                  error.code() == grpc.StatusCode.INVALID_ARGUMENT and info and info.reason == "INVALID_ARGUMENT"
                  and fields == ["cardNumber", "passcode"])
    attempt("BalanceInquiry refusal", refusal)
    session.close()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: reflection_check.py HOST:PORT")
    print("grpcio %s (C-core), protobuf %s (%s runtime)" % (grpc.__version__, __import__("google.protobuf").protobuf.__version__,
          __import__("google.protobuf.internal.api_implementation", fromlist=["Type"]).Type()))
    built = built_files(BINPB)
    with open_channel(sys.argv[1]) as channel:
        for version in VERSIONS:
            check_version(channel, version, built)
        check_calls(channel)
    failed = results.count(False)
    print("%d passed, %d failed" % (results.count(True), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Runs a protoc plugin written before proto3 `optional` existed, and tells protoc (or buf) it copes.

Debian's grpc-gateway 1.6.4 and protoc-gen-go 1.3.5 predate proto3 optional, so protoc refuses to
hand them a file with an `optional` field. Such a field is encoded in the descriptor as a one-field
oneof (`_preferred`); a plugin that does not know the newer flag sees exactly that oneof and
generates a oneof, which keeps presence and has the same wire and JSON encoding. That is how
protobuf designed the feature to meet old generators, so declaring support here is true for them.

    /usr/bin/python3 proto3_optional_shim.py PLUGIN [ARGS...]
"""

import subprocess
import sys

from google.protobuf.compiler import plugin_pb2

request = sys.stdin.buffer.read()
plugin = subprocess.run(sys.argv[1:], input=request, stdout=subprocess.PIPE, check=True)
response = plugin_pb2.CodeGeneratorResponse.FromString(plugin.stdout)
response.supported_features |= plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
sys.stdout.buffer.write(response.SerializeToString())

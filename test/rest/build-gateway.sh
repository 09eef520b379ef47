#!/usr/bin/env bash
# Builds grpc-gateway in front of GiftCardService offline, from Debian's packages only:
#   apt-get install -y golang-go golang-grpc-gateway golang-github-grpc-ecosystem-grpc-gateway-dev \
#     golang-goprotobuf-dev protoc-gen-go-1-3 golang-google-grpc-dev golang-google-genproto-dev
# Debian ships the Go sources under /usr/share/gocode in GOPATH layout (grpc-gateway 1.6.4 with
# golang/protobuf 1.3.5, grpc 1.33, genproto 2020), so the build runs in GOPATH mode, no proxy.
# Writes dist/rest-gateway/giftcard-rest-gateway.
set -euo pipefail
cd "$(dirname "$0")/../.."

need() {
  if ! command -v "$1" >/dev/null; then
    echo "missing $1; install Debian's $2 (see the top of $0)" >&2
    exit 1
  fi
}
need go golang-go
need protoc-gen-go protoc-gen-go-1-3
need protoc-gen-grpc-gateway golang-grpc-gateway
for source in github.com/grpc-ecosystem/grpc-gateway/runtime google.golang.org/genproto/googleapis/rpc/errdetails; do
  [ -d "/usr/share/gocode/src/$source" ] || { echo "missing Go sources of $source in /usr/share/gocode" >&2; exit 1; }
done

work="$PWD/dist/rest-gateway"
rm -rf "$work"
mkdir -p "$work/src/giftcardgw"
cp test/rest/gateway/main.go "$work/src/giftcardgw/"
npx buf generate --template test/rest/buf.gen.gateway.yaml --path proto/giftcard/v1 -o "$work/src/giftcardgw"
GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOPROXY=off GOFLAGS= GOCACHE="$work/cache" \
  go build -o "$work/giftcard-rest-gateway" giftcardgw
echo "built $work/giftcard-rest-gateway ($(go version | cut -d' ' -f3), grpc-gateway $(dpkg-query -W -f='${Version}' golang-github-grpc-ecosystem-grpc-gateway-dev))"

// Command giftcard-rest-gateway serves the google.api.http mapping of giftcard.v1.GiftCardService
// over HTTP/JSON with grpc-gateway, in front of a running service. Built offline from Debian's
// packages by test/rest/build-gateway.sh; it prints "listening on HOST:PORT" once it accepts.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/runtime"
	// Registers google.rpc.ErrorInfo and BadRequest, so error details print as JSON.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"

	giftcard "giftcardgw/gen/giftcard/v1"
)

func main() {
	backend := flag.String("backend", "127.0.0.1:50051", "the gRPC service")
	listen := flag.String("listen", "127.0.0.1:0", "where to serve HTTP")
	flag.Parse()

	// JSON names (giftCardId), as Envoy's transcoder and grpcurl print them; grpc-gateway 1.x
	// defaults to proto names. Requests are accepted in either form.
	mux := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{OrigName: false}))
	dial := []grpc.DialOption{grpc.WithInsecure()}
	if err := giftcard.RegisterGiftCardServiceHandlerFromEndpoint(context.Background(), mux, *backend, dial); err != nil {
		log.Fatal(err)
	}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", listener.Addr())
	log.Fatal(http.Serve(listener, mux))
}

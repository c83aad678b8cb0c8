// Command sink is the decode-only row of scripts/bench/peers.sh: an OTLP receiver that decodes every request
// with pdata, counts the items and keeps nothing. It shows what one core can do before any storage work.
//
//	go run ./scripts/bench/sink --grpc-addr 127.0.0.1:14317 --http-addr 127.0.0.1:14318
//
// It serves until SIGINT or SIGTERM and then prints the counts.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/otlpd/otlpd/internal/otlpsink"
)

func main() {
	grpcAddr := flag.String("grpc-addr", "127.0.0.1:14317", "OTLP/gRPC listen address")
	httpAddr := flag.String("http-addr", "127.0.0.1:14318", "OTLP/HTTP listen address")
	discard := flag.Bool("discard", false, "answer without decoding (measures the client, not a server)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := otlpsink.Start(otlpsink.Options{GRPCAddr: *grpcAddr, HTTPAddr: *httpAddr, Discard: *discard})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
	fmt.Printf("sink listening: OTLP/gRPC %s, OTLP/HTTP %s\n", s.GRPCAddr, s.HTTPAddr)
	<-ctx.Done()
	s.Close()
	fmt.Printf("sink: spans %d, logs %d, points %d, requests %d\n", s.Spans.Load(), s.Logs.Load(), s.Points.Load(),
		s.Requests.Load())
}

package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServe runs `otlpd serve` on random loopback ports, checks that it prints where it listens and answers
// its health check, and that it exits cleanly when its context ends (as on SIGINT).
func TestServe(t *testing.T) {
	url, stop := startServe(t, "--storage", "memory", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--ui-addr", "127.0.0.1:0")
	if !strings.HasPrefix(url, "http://") {
		t.Errorf("UI address printed as %q, want an http:// URL", url)
	}
	checkHealthz(t, &http.Client{Timeout: 5 * time.Second}, url)
	stop()
}

// TestServeTLSPrintsHTTPS checks that with TLS configured, serve prints the UI address as an https:// URL
// that answers over TLS.
func TestServeTLSPrintsHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeTestCert(t, certFile, keyFile)
	cfg := filepath.Join(dir, "otlpd.yaml")
	yaml := fmt.Sprintf("storage: memory\ntls:\n  cert_file: %s\n  key_file: %s\n", certFile, keyFile)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, "--config", cfg, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--ui-addr", "127.0.0.1:0")
	defer stop()
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("with TLS, UI address printed as %q, want an https:// URL", url)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's self-signed certificate
	}}
	checkHealthz(t, client, url)
}

// startServe runs `otlpd serve` with args until the test ends or stop is called, and returns the UI URL
// it prints. stop checks that serve exits cleanly once its context ends.
func startServe(t *testing.T, args ...string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	outR, outW := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, append([]string{"serve"}, args...), outW, io.Discard)
		outW.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	var line string
	select {
	case line = <-lines:
	case code := <-exit:
		t.Fatalf("serve exited with %d before listening", code)
	case <-time.After(20 * time.Second):
		t.Fatal("serve printed nothing in 20s")
	}
	m := regexp.MustCompile(`OTLP/gRPC 127\.0\.0\.1:\d+, OTLP/HTTP 127\.0\.0\.1:\d+, UI and API (https?://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("unexpected first line %q", line)
	}
	return m[1], func() {
		t.Helper()
		cancel()
		select {
		case code := <-exit:
			if code != 0 {
				t.Errorf("exit code %d after shutdown", code)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop within 20s of its context ending")
		}
	}
}

func checkHealthz(t *testing.T, client *http.Client, url string) {
	t.Helper()
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("GET %s/healthz: %v", url, err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
}

// writeTestCert writes a self-signed ECDSA certificate for 127.0.0.1 and its key, in PEM.
func writeTestCert(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "otlpd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeBadFlag(t *testing.T) {
	if code := run(context.Background(), []string{"serve", "--storage", "nope"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("exit code %d for a bad --storage, want 2", code)
	}
}

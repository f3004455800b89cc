// A Go HTTPS server and client for test/tls/go.test.ts: standard library only, so it builds
// offline. Their plaintext goes through crypto/tls.(*Conn).Read and .Write, which
// tapline-capture --tls hooks.
//
//	gotls server ADDR CERT KEY   serves until killed; prints "ready" once listening
//	gotls client URL...          one request per URL ("POST " prefix: a 3000-byte body);
//	                             HTTP/1.1 unless the URL has the prefix "h2 "
package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func serve(addr, cert, key string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("content-type", "text/plain")
		if strings.HasPrefix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
		}
		fmt.Fprintf(w, "got %s %s %d %s\n", r.Method, r.URL.Path, n, r.Proto)
	})
	fmt.Println("ready")
	return http.ServeTLS(ln, h, cert, key)
}

func client(urls []string) error {
	insecure := &tls.Config{InsecureSkipVerify: true}
	// A non-nil empty TLSNextProto keeps the transport on HTTP/1.1.
	h1 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: insecure, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	h2 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: insecure, ForceAttemptHTTP2: true}}
	for _, u := range urls {
		c, method, body := h1, "GET", io.Reader(nil)
		if strings.HasPrefix(u, "h2 ") {
			c, u = h2, strings.TrimPrefix(u, "h2 ")
		}
		if strings.HasPrefix(u, "POST ") {
			method, u, body = "POST", strings.TrimPrefix(u, "POST "), bytes.NewReader(bytes.Repeat([]byte("x"), 3000))
		}
		req, err := http.NewRequest(method, u, body)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		fmt.Printf("%d %s", resp.StatusCode, b)
	}
	return nil
}

func main() {
	var err error
	switch {
	case len(os.Args) == 5 && os.Args[1] == "server":
		err = serve(os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) >= 3 && os.Args[1] == "client":
		err = client(os.Args[2:])
	default:
		err = fmt.Errorf("usage: gotls server ADDR CERT KEY | gotls client URL...")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotls:", err)
		os.Exit(1)
	}
}

// A WebSocket client on gorilla/websocket for skyport's interop tests
// (tests/e2e/interop.test.ts): dials URL (ws:// or wss://, trusting CAFILE
// for wss; "-" for none), sends each MESSAGE as a text frame, prints every
// text message received, one per line, until one contains UNTIL, then closes
// with 1000. Exits 1 if UNTIL is not seen within 10 s.
//
//	gorilla-client URL CAFILE UNTIL MESSAGE...
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Longest wait for the message containing UNTIL.
const untilTimeout = 10 * time.Second

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: gorilla-client URL CAFILE UNTIL MESSAGE...")
		os.Exit(2)
	}
	url, caFile, until, messages := os.Args[1], os.Args[2], os.Args[3], os.Args[4:]
	dialer := websocket.Dialer{HandshakeTimeout: untilTimeout}
	if caFile != "-" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			fail("cannot read CA file %s: %v", caFile, err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			fail("no PEM certificate in %s", caFile)
		}
		dialer.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	conn, _, err := dialer.Dial(url, nil)
	if err != nil {
		fail("dial %s: %v", url, err)
	}
	defer conn.Close()
	for _, message := range messages {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(message)); err != nil {
			fail("send: %v", err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(untilTimeout))
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			fail("read before %q arrived: %v", until, err)
		}
		if kind != websocket.TextMessage {
			continue
		}
		fmt.Println(string(data))
		if strings.Contains(string(data), until) {
			break
		}
	}
	closing := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done")
	conn.WriteControl(websocket.CloseMessage, closing, time.Now().Add(time.Second))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gorilla-client: "+format+"\n", args...)
	os.Exit(1)
}

// Reference: WebSocket echo in Go with gorilla/websocket, written the way
// gorilla's own examples/echo does it (ReadMessage, then WriteMessage).
//
// usage: gorilla-echo [--addr host:port]
// Prints "gorilla-echo listening on HOST:PORT" once listening. Every path upgrades.
// The benchmark builds it into a temporary directory (GOPATH mode, Debian's
// gorilla source); no binary is committed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/gorilla/websocket"
)

const (
	// Same message size limit as skyport's default --echo-max-bytes.
	maxMessageBytes = 16 << 20
	// Per-connection read and write buffers, gorilla's defaults made explicit.
	bufferBytes = 4096
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  bufferBytes,
	WriteBufferSize: bufferBytes,
	CheckOrigin:     func(*http.Request) bool { return true },
}

// echo serves one connection: one goroutine, the only reader and the only writer.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadLimit(maxMessageBytes)
	for {
		messageType, message, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(messageType, message); err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (host:port)")
	flag.Parse()
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("gorilla-echo: cannot listen on %s: %v", *addr, err)
	}
	fmt.Printf("gorilla-echo listening on %s\n", listener.Addr())
	log.Fatal(http.Serve(listener, http.HandlerFunc(echo)))
}

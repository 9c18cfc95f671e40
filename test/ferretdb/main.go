// Command ferretdb runs an embedded FerretDB v1 (SQLite handler) on a loopback
// port for tagpress's MongoDB tests and benchmark.
//
// It prints the server's MongoDB URI on one line of standard output once the
// port is bound, then serves until SIGTERM/SIGINT or until standard input
// reaches EOF (so it never outlives the test process that started it).
//
//	ferretdb [-listen 127.0.0.1:0] [-dir DIR]
//
// With no -dir, the SQLite files live in a fresh temporary directory that is
// removed on exit; with -dir, they are kept (a restarted server sees the data).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0: a free port)")
	dir := flag.String("dir", "", "directory of the SQLite files (created if missing; default: a temporary directory removed on exit)")
	logLevel := flag.String("log", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail(err)
	}

	d := *dir
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "tagpress-ferretdb-"); err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
	} else if err := os.MkdirAll(d, 0o755); err != nil {
		fail(err)
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		fail(err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.ToSlash(abs) + "/", // an existing directory, ending in "/"
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		fail(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The parent closed our standard input (or died): stop.
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// New binds the listener, so the URI names the real port already.
	fmt.Println(f.MongoDBURI())

	if err := <-done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ferretdb:", err)
	os.Exit(1)
}

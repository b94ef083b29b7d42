//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

import (
	"io"
	"os"
)

// isTerminal: elsewhere the CLI does not probe for a terminal and never
// draws a progress line.
func isTerminal(io.Writer) bool { return false }

// openProbe is os.Open here (no O_NOFOLLOW, no O_NONBLOCK).
func openProbe(path string, _ bool) (*os.File, error) { return os.Open(path) }

// topSignals: elsewhere top ends on Ctrl-C (os.Interrupt) only; not every
// system has SIGHUP and SIGPIPE (js/wasm).
var topSignals = []os.Signal{os.Interrupt}

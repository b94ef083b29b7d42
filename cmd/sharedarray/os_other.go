//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

import (
	"io"
)

// isTerminal: elsewhere the CLI does not probe for a terminal and never
// draws a progress line.
func isTerminal(io.Writer) bool { return false }

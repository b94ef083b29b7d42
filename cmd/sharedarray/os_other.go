//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

import (
	"io"
	"time"
)

// isTerminal: elsewhere the CLI does not probe for a terminal and never
// draws a progress line.
func isTerminal(io.Writer) bool { return false }

// changeTime: elsewhere there is no /dev/shm to look at.
func changeTime(string) (time.Time, bool) { return time.Time{}, false }

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package main

import "golang.org/x/sys/unix"

// ioctlReadTermios reads a terminal's settings: isTerminal's probe.
const ioctlReadTermios = unix.TIOCGETA

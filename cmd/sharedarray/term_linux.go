package main

import "golang.org/x/sys/unix"

// ioctlReadTermios reads a terminal's settings: isTerminal's probe.
const ioctlReadTermios = unix.TCGETS

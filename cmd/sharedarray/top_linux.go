package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// readKeys puts a terminal stdin in non-canonical mode without echo (keys
// arrive one by one; Ctrl-C still signals) and sends each key read; restore
// puts the terminal back. A stdin that is not a terminal sends nothing.
func readKeys() (<-chan byte, func()) {
	keys := make(chan byte, 1)
	fd := int(os.Stdin.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return keys, func() {}
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if unix.IoctlSetTermios(fd, unix.TCSETS, &raw) != nil {
		return keys, func() {}
	}
	go func() {
		var b [1]byte
		for {
			if n, err := os.Stdin.Read(b[:]); err != nil || n == 0 {
				return
			}
			select {
			case keys <- b[0]:
			default:
			}
		}
	}()
	return keys, func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}

//go:build !linux

package main

// readKeys: rings are Linux-only; elsewhere top ends with Ctrl-C or -n.
func readKeys() (<-chan byte, func()) { return make(chan byte), func() {} }

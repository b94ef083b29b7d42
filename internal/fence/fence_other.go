//go:build !arm64

// Package fence is a full memory barrier for the frame ring's seqlock. It
// is its own package because Go assembly cannot live in a package that
// uses cgo.
package fence

// Full does nothing off arm64: on amd64 (TSO) loads are not reordered with
// loads nor stores with stores, which is all the seqlock needs from it;
// other architectures refuse frame rings.
func Full() {}

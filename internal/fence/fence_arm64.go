// Package fence is a full memory barrier for the frame ring's seqlock. It
// is its own package because Go assembly cannot live in a package that
// uses cgo.
package fence

// Full is DMB ISH: no load or store crosses it.
//
//go:noescape
func Full()

// Package gonum shows a gonum *mat.Dense over a shared float64 array, with
// no copy. It is a module of its own, so that gonum stays out of the
// sharedarray module's requirements: run its example with
//
//	cd examples/gonum && go test
package gonum

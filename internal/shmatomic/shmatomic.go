// Package shmatomic is the atomic access to memory shared with other
// processes (the frame ring's control words): loads, stores and
// read-modify-writes with the sequentially consistent ordering of
// sync/atomic.
//
// Without the race detector each function is sync/atomic's, inlined.
// Under the race detector (amd64 and arm64, the architectures of frame
// rings) each is a few instructions of Go assembly instead, because there
// sync/atomic runs the access inside the race runtime's C code on the
// system stack: when another process truncates the segment between the
// race runtime's probe of the address and its access, the SIGBUS arrives
// in a frame the Go runtime cannot unwind, and the panic that
// debug.SetPanicOnFault should turn into an error kills the process with
// "traceback did not unwind completely". In assembly the fault is an
// ordinary recoverable fault in a Go frame. The race detector loses
// nothing: it ignores synchronization on addresses outside the Go heap,
// which a mapping always is.
//
// It is its own package because Go assembly cannot live in a package that
// uses cgo.
package shmatomic

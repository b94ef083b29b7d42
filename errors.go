package sharedarray

import (
	"errors"
	"fmt"
	"io/fs"
)

// Errors shared with package fs, so errors.Is works with either name.
var (
	ErrExist      = fs.ErrExist      // Create: the name is taken
	ErrNotExist   = fs.ErrNotExist   // Attach, Delete: no such segment
	ErrPermission = fs.ErrPermission // the segment's permissions forbid it
	ErrClosed     = fs.ErrClosed     // use of an Array (or, in ReadAt/WriteAt, of a slice of one) after Close
	ErrInvalid    = fs.ErrInvalid    // a bad name, shape or option
)

// ErrFormat is matched by every *FormatError: the segment is not a valid
// SharedArray (no magic, a trailer field out of range, a file too short).
var ErrFormat = errors.New("sharedarray: not a valid SharedArray segment")

// ErrDtype is wrapped by errors about dtypes: one that cannot be shared
// (object, StringDType, an unknown typenum, item size 0), a spelling
// ParseDtype does not know, or a View type that does not match.
var ErrDtype = errors.New("sharedarray: unsupported dtype")

// ErrNPY is matched by errors about a .npy file that cannot be imported: a
// bad header, an unsupported dtype or layout, a truncated data section.
var ErrNPY = errors.New("sharedarray: bad or unsupported .npy file")

// ErrFault is wrapped by the errors of the guarded paths (ReadAt, WriteAt,
// WriteNPY) when touching the mapping faulted: another process truncated
// the segment under it, or a Sparse segment's file system had no page left
// to give. Plain slices from Bytes and View have no such guard: the same
// fault there raises SIGBUS, which stops a Go program. A fault in the
// caller's slice given to ReadAt or WriteAt (read-only memory, another
// truncated mapping) matches ErrFault too, with an error saying so.
var ErrFault = errors.New("sharedarray: memory fault in the mapping (segment truncated by another process, or its file system full)")

// Errors of frame rings. ErrNotRing tells a tool given any name that it
// has a plain array (Attach it) rather than a ring (OpenRingReader);
// ErrBusy tells a standby writer to retry OpenRingWriter later; ErrOverrun
// tells a Read caller to discard what its callback computed.
var (
	// ErrNotRing is matched when a segment is a valid SharedArray but has
	// no ring control block.
	ErrNotRing = errors.New("sharedarray: not a frame ring")
	// ErrBusy is matched when a ring already has a live writer.
	ErrBusy = errors.New("sharedarray: ring has a live writer")
	// ErrOverrun is matched by Read when the writer overwrote the frame
	// while the callback read it: what the callback computed is garbage.
	ErrOverrun = errors.New("sharedarray: frame overwritten while read")
)

// A FormatError describes a segment whose trailer is missing or invalid:
// which field, at which byte offset of the file, with which value.
type FormatError struct {
	Name   string // the segment's name as passed
	Offset int64  // byte offset of the field in the file, -1 if none
	Field  string // "magic", "ndims", "dims[3]", "typenum", "itemsize", "size", ...
	Value  any    // the value found, nil if none
	Msg    string // what is wrong with it
}

func (e *FormatError) Error() string {
	s := "sharedarray: " + e.Name + ": "
	if e.Field != "" {
		s += e.Field
		if e.Value != nil {
			s += fmt.Sprintf(" = %v", e.Value)
		}
		if e.Offset >= 0 {
			s += fmt.Sprintf(" at offset %d", e.Offset)
		}
		s += ": "
	}
	return s + e.Msg
}

// Is makes errors.Is(err, ErrFormat) true for every FormatError.
func (e *FormatError) Is(target error) bool { return target == ErrFormat }

// pathError wraps an OS error as *fs.PathError with the user's name.
func pathError(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// kindError is an error of one kind (ErrDtype, ErrNPY) with what went
// wrong in this case. Its message has the kind's "sharedarray:" prefix
// once: an error nested in another message contributes only its detail.
type kindError struct {
	kind  error  // ErrDtype, ErrNPY, ...
	msg   string // the detail, without the kind
	cause error  // an error of another kind this one wraps, or nil
}

func (e *kindError) Error() string { return e.kind.Error() + ": " + e.msg }

func (e *kindError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// kindErrorf returns an error of kind with the formatted detail.
func kindErrorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// nestf returns an error of kind whose detail ends with cause's detail,
// wrapping cause too: errors.Is matches both kinds, and the message has one
// prefix.
func nestf(kind, cause error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...) + ": " + detail(cause), cause: cause}
}

// detail returns err's message without its kind's prefix, to be nested in
// another message.
func detail(err error) string {
	if ke, ok := err.(*kindError); ok {
		return ke.msg
	}
	return err.Error()
}

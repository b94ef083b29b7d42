//go:build !unix

package sharedarray

import "io/fs"

// SameFile reports whether fi describes the file the Info was read from;
// on this system it cannot tell, and says false.
func (i Info) SameFile(fs.FileInfo) bool { return false }

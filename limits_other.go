//go:build !linux

package sharedarray

// readLimits reads what bounds the arrays this process can create in dir.
// Outside Linux there are no shared arrays (see shm_unsupported.go): every
// value is unknown and Warnings says why.
func readLimits(dir string) *limits {
	if dir == "" {
		dir = shmDir
	}
	l := unknownLimits(dir)
	l.Warnings = []string{errUnsupported.Error()}
	return &l
}

package sharedarray

import "syscall"

// The system's numbers for what the portable files ask of it. On Linux
// they are the real ones; sys_other.go stands in elsewhere, where the
// system-call layer refuses every call before they matter.
const (
	protRead  = syscall.PROT_READ
	protWrite = syscall.PROT_WRITE
	oTmpfile  = 0o20000000 | syscall.O_DIRECTORY // O_TMPFILE
	oNonblock = syscall.O_NONBLOCK
	oNoctty   = syscall.O_NOCTTY
	oNofollow = syscall.O_NOFOLLOW
)

// addressSpaceLimit returns RLIMIT_AS's soft limit (RLIM_INFINITY when
// unlimited), or false when it cannot be read.
func addressSpaceLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_AS, &rl) != nil {
		return 0, false
	}
	return rl.Cur, true
}

// rlimitMemlock is RLIMIT_MEMLOCK (syscall does not name it).
const rlimitMemlock = 8

// memlockLimit returns RLIMIT_MEMLOCK's soft limit, or false when it
// cannot be read.
func memlockLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(rlimitMemlock, &rl) != nil {
		return 0, false
	}
	return rl.Cur, true
}

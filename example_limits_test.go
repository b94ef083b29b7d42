package sharedarray_test

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/sharedarray/sharedarray"
)

// Will it fit? Before making a large array, ask with the rules Create
// applies: the free space of /dev/shm and, since /dev/shm is memory, what
// the container's memory cgroup leaves and the host's MemAvailable. A
// refusal is a *SpaceError saying which limit refuses and what to change.
func ExampleCheckSpace() {
	fmt.Println(sharedarray.CheckSpace("shm://small", []int{1024, 1024}, sharedarray.Uint8))

	err := sharedarray.CheckSpace("shm://huge", []int{1 << 50}, sharedarray.Uint8) // 1 PiB
	var se *sharedarray.SpaceError
	if errors.As(err, &se) {
		fmt.Println("needs", se.Need, "bytes; what to change is said:", se.Fix != "")
		switch se.Where {
		case sharedarray.WhereFileSystem: // /dev/shm is full (or too small): ENOSPC
			fmt.Println("refused:", errors.Is(err, syscall.ENOSPC))
		case sharedarray.WhereCgroup, sharedarray.WhereHostMemory: // memory: ENOMEM
			fmt.Println("refused:", errors.Is(err, syscall.ENOMEM))
		}
	}
	// Output:
	// <nil>
	// needs 1125899906843172 bytes; what to change is said: true
	// refused: true
}

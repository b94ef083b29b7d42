package sharedarray_test

import (
	"errors"
	"fmt"

	"github.com/sharedarray/sharedarray"
)

// A container started with docker run --shm-size=1g --memory=512m: the
// cgroup limit, not /dev/shm, is what refuses a 768 MiB array. In a real
// program the Limits come from sharedarray.ReadLimits("").
func ExampleLimits_Check() {
	l := &sharedarray.Limits{
		Dir: "/dev/shm", FSSize: 1 << 30, FSFree: 1 << 30, FSMemory: true,
		MemTotal: 64 << 30, MemAvailable: 60 << 30,
		Cgroup: sharedarray.CgroupMemory{Version: 2, Path: "/sys/fs/cgroup", LimitPath: "/sys/fs/cgroup",
			Limit: 512 << 20, Usage: 40 << 20, Reclaimable: 0, Available: 472 << 20},
	}
	room, by := l.Room() // what the cgroup leaves, less the kernel memory that holds and maps the array
	fmt.Printf("room: %.1f MiB (%s)\n", float64(room)/(1<<20), by)
	fmt.Println(l.Check(256 << 20))
	err := l.Check(768 << 20)
	var se *sharedarray.SpaceError
	if errors.As(err, &se) {
		fmt.Println(se.Where, "refuses it:", se.Fix)
	}
	// Output:
	// room: 468.3 MiB (cgroup memory limit)
	// <nil>
	// cgroup memory limit refuses it: raise the container's memory limit (docker run --memory; Kubernetes: resources.limits.memory) or create a smaller array
}

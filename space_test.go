package sharedarray

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// runCgroupChild moves this process into the cgroup whose cgroup.procs
// is args[0], then creates array args[1] of args[2] bytes (none if 0)
// and args[3] of args[4] bytes, with the memory check unless args[5] is
// "skip"; with "room", the largest array args[1] the check lets through. It prints what happened and exits 0 unless it cannot move.
func runCgroupChild(args []string) int {
	if err := os.WriteFile(args[0], []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
		fmt.Println("cannot move:", err)
		return 3
	}
	var opts []Option
	if args[5] == "skip" {
		opts = append(opts, SkipMemoryCheck())
	}
	if args[5] == "room" {
		// The largest array the check lets through, every page touched.
		// The process's own memory moves a little between ReadLimits and
		// Create: step down from Room until Create accepts.
		room, where := readLimits("").Room()
		fmt.Println("room", room, where)
		var a *Array
		var err error
		for n := int(room) - LayoutDual.TrailerSize(); n > 0; n -= 64 << 10 {
			if a, err = Create(args[1], []int{n}, Uint8, Prefault()); !errors.Is(err, syscall.ENOMEM) {
				break
			}
		}
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("accepted", a.Len())
		for b, i := a.Bytes(), 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		fmt.Println("created", args[1])
		a.Close()
		return 0
	}
	for i := 1; i+1 < 5; i += 2 {
		n, _ := strconv.Atoi(args[i+1])
		if n == 0 {
			continue
		}
		a, err := Create(args[i], []int{n}, Uint8, opts...)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println("created", args[i])
		a.Close()
	}
	return 0
}

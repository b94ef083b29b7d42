package sharedarray

import (
	"os"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	assert.NilError(t, err)
	return len(ents)
}

// countMaps counts this process's mappings of shared memory and files
// under the test's directories (the Go heap's own mappings come and go).
func countMaps(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/maps")
	assert.NilError(t, err)
	return strings.Count(string(b), shmDir+"/")
}

// 100,000 Create/Attach/Close/Delete cycles leave descriptors, mappings and
// /dev/shm as they were.
func TestNoLeaks(t *testing.T) {
	cycles := 100000
	if testing.Short() {
		cycles = 5000
	}
	name := testName(t)
	fds, maps := countFDs(t), countMaps(t)
	for i := range cycles {
		a, err := Create(name, []int{i%64 + 1}, Float64)
		if err != nil {
			t.Fatal(i, err)
		}
		b, err := Attach(name)
		if err != nil {
			t.Fatal(i, err)
		}
		if i == 0 {
			assert.Equal(t, countMaps(t), maps+2, "the count sees our mappings")
			assert.Equal(t, countFDs(t), fds, "no descriptor is kept open")
		}
		if i%1000 == 0 { // the failure paths too
			if _, err := Create(name, []int{1}, Uint8); err == nil {
				t.Fatal("created twice")
			}
			Attach(name + "-missing")
		}
		b.Close()
		a.Close()
		if err := Delete(name); err != nil {
			t.Fatal(i, err)
		}
	}
	assert.Equal(t, countFDs(t), fds, "file descriptors")
	assert.Equal(t, countMaps(t), maps, "mappings")
	_, err := os.Stat(shmDir + "/" + name)
	assert.Assert(t, os.IsNotExist(err))
	t.Logf("%d cycles: %d fds, %d mappings before and after", cycles, fds, maps)
}

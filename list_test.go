//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

import (
	"testing"

	"gotest.tools/v3/assert"
)

// List reads entries in batches (tailBatchLen a C call): every segment of a
// listing longer than two batches is found, with its own shape.
func TestListBatches(t *testing.T) {
	n := 2*tailBatchLen + 17
	want := map[string]int{}
	for i := range n {
		name := testName(t)
		a, err := Create(name, []int{i + 1}, Uint8, Sparse())
		assert.NilError(t, err)
		a.Close()
		want[name] = i + 1
	}
	infos, err := List()
	assert.NilError(t, err)
	got := 0
	for _, in := range infos {
		if d, ok := want[in.Name]; ok {
			assert.DeepEqual(t, in.Shape, []int{d})
			assert.Equal(t, in.Size, int64(d+LayoutDual.TrailerSize()))
			got++
		}
	}
	assert.Equal(t, got, n)
}

package sharedarray

import (
	"testing"
)

// TestAllocsPerCall: the allocation counts docs/performance.md gives per
// call for Create + Close + Delete (9) and Attach + Close (4) are upper
// bounds that hold. sync.Pool drops items at random under the race
// detector, so the counts are checked without it.
func TestAllocsPerCall(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool is randomised under -race")
	}
	name := testName(t)
	shape := []int{10}
	check := func(what string, limit float64, f func()) {
		t.Helper()
		got := testing.AllocsPerRun(200, f)
		t.Logf("%s: %.1f allocations", what, got)
		if got > limit {
			t.Errorf("%s: %.1f allocations per call, docs/performance.md says %.0f", what, got, limit)
		}
	}
	check("Create + Close + Delete", 9, func() {
		a, err := Create(name, shape, Float64, Sparse())
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	})
	a, err := Create(name, shape, Float64, Sparse())
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	defer a.Close()
	check("Attach + Close", 4, func() {
		b, err := Attach(name)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	})
}

package sharedarray

import "testing"

// TestCallAllocations: the allocation counts docs/performance.md
// ("Per-call overhead") states are upper bounds that hold: Attach + Close
// 4, Create + Close + Delete 9, with no option and with one (the options
// check once moved the options, and the caller's option slice, to the heap
// on every call). Allocation counts do not depend on timing; the race
// detector changes them (and randomises sync.Pool), so it skips there.
func TestCallAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations and randomises sync.Pool")
	}
	name := testName(t)
	shape := []int{10} // as a caller's shape: not counted per call
	check := func(what string, limit float64, f func()) {
		t.Helper()
		got := testing.AllocsPerRun(200, f)
		t.Logf("%s: %.1f allocations", what, got)
		if got > limit {
			t.Errorf("%s: %.1f allocations per call, docs/performance.md says %.0f: update it or find the new allocation", what, got, limit)
		}
	}
	cycle := func(opts ...Option) func() {
		return func() {
			b, err := Create(name, shape, Float64, opts...)
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
			if err := Delete(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	check("Create + Close + Delete", 9, cycle())
	check("Create + Close + Delete, Sparse()", 9, cycle(Sparse()))
	a := mustCreate(t, name, shape, Float64)
	a.Close()
	check("Attach + Close", 4, func() {
		b, err := Attach(name)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	})
}

package sharedarray

import "testing"

// TestCallAllocations: the allocation counts docs/performance.md
// ("Per-call overhead") states for a call with no options: Attach + Close
// 4, Create + Close + Delete 9. Allocation counts do not depend on timing;
// the race detector changes them, so it skips there. The options check
// (makeOptions) once added one to each by moving the options to the heap
// on every call.
func TestCallAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	name := testName(t)
	a := mustCreate(t, name, []int{10}, Float64)
	a.Close()
	attach := testing.AllocsPerRun(200, func() {
		b, err := Attach(name)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	})
	if err := Delete(name); err != nil {
		t.Fatal(err)
	}
	shape := []int{10} // as a caller's shape: not counted per call
	cycle := testing.AllocsPerRun(200, func() {
		b, err := Create(name, shape, Float64)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	})
	if attach > 4 || cycle > 9 {
		t.Errorf("allocations per call: Attach+Close %v (docs: 4), Create+Close+Delete %v (docs: 9): update docs/performance.md or find the new allocation", attach, cycle)
	}
}

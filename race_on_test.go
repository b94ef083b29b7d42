//go:build race

package sharedarray

// raceEnabled: the race detector reserves terabytes of shadow address
// space, so tests that limit address space skip under it.
const raceEnabled = true

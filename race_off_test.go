//go:build !race

package sharedarray

const raceEnabled = false

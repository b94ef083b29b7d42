//go:build race

package bigcopy

const raceEnabled = true

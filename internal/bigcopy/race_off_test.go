//go:build !race

package bigcopy

const raceEnabled = false

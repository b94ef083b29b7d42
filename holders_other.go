//go:build !linux

package sharedarray

import (
	"errors"
	"fmt"
	"runtime"
)

func holdersOf([]string) (map[string][]Holder, error) { return holdersOfFiles(nil) }

func holdersOfFiles(map[fileID][]string) (map[string][]Holder, error) {
	return nil, pathError("holders", "/proc", fmt.Errorf("finding holders needs Linux's /proc, not %s: %w", runtime.GOOS, errors.ErrUnsupported))
}

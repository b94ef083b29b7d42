package byteunit

import (
	"math"
	"testing"

	"gotest.tools/v3/assert"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{64 << 20, "64.0 MiB"},
		{3 << 29, "1.5 GiB"},
		{1 << 40, "1.0 TiB"},
		{1 << 60, "1.0 EiB"},
		{math.MaxInt64, "8.0 EiB"},
		{-5, "-5 B"},
	} {
		assert.Equal(t, Format(tc.n), tc.want, "%d", tc.n)
	}
}

package sharedarray

import "runtime"

// longDoubleFormat names C's long double on a GOARCH, which is what
// NumPy's longdouble holds there: "x87" (80-bit extended, amd64 and 386),
// "binary128" (arm64), or "" where the package does not know it.
func longDoubleFormat(goarch string) string {
	switch goarch {
	case "amd64", "386":
		return "x87"
	case "arm64":
		return "binary128"
	}
	return ""
}

// longDouble is this platform's longDoubleFormat.
var longDouble = longDoubleFormat(runtime.GOARCH)

// Package byteunit formats byte counts the one way the library's errors and
// the sharedarray command both print them.
package byteunit

import "fmt"

// Format formats a byte count with a binary unit: "512 B", "1.5 KiB",
// "64.0 MiB", one decimal from KiB up.
func Format(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}

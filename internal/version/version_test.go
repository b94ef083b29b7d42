package version

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPythonVersion: the Python helper in python/ is released with the Go
// module and declares the same version (without the v).
func TestPythonVersion(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../python/pyproject.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^version\s*=\s*"([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal(`python/pyproject.toml: no version = "..." line`)
	}
	if got, want := string(m[1]), strings.TrimPrefix(Version, "v"); got != want {
		t.Fatalf("python/pyproject.toml declares version %q, the Go module is %s: change both (internal/version/version.go is the source)", got, Version)
	}
}

// TestChangelog: CHANGELOG.md's first release heading is this version.
func TestChangelog(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## \[?(v[0-9][^\] ]*)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("CHANGELOG.md: no '## vX.Y.Z' heading")
	}
	if string(m[1]) != Version {
		t.Fatalf("CHANGELOG.md's newest entry is %s, internal/version says %s", m[1], Version)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	appversion "github.com/sharedarray/sharedarray/internal/version"
	"gotest.tools/v3/assert"
)

// TestVersionLine: what --version prints for each kind of build, as
// docs/cli.md lists them.
func TestVersionLine(t *testing.T) {
	t.Parallel()
	vcs := func(mod, modified string) *debug.BuildInfo {
		bi := &debug.BuildInfo{}
		bi.Main.Version = mod
		bi.Settings = []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "1cf15e788288ac27038bf1a9c3f78ab3a06f4eaf"},
			{Key: "vcs.time", Value: "2026-12-05T19:47:46Z"}, {Key: "vcs.modified", Value: modified}}
		return bi
	}
	mod := func(v string) *debug.BuildInfo { bi := &debug.BuildInfo{}; bi.Main.Version = v; return bi }
	dev := "sharedarray " + appversion.Version + "-devel"
	for _, c := range []struct {
		stamp string
		bi    *debug.BuildInfo
		want  string
	}{
		{"", mod("v0.1.0"), "sharedarray v0.1.0"},          // go install ...@v0.1.0
		{"", vcs("v0.1.0", "false"), "sharedarray v0.1.0"}, // a clean clone at the tag
		{"", vcs("v0.1.0+dirty", "true"), dev + " (1cf15e788288+modified, 2026-12-05T19:47:46Z)"},
		{"", vcs("v0.0.0-20261205194746-1cf15e788288", "false"), dev + " (1cf15e788288, 2026-12-05T19:47:46Z)"},
		{"", vcs("v0.1.1-0.20261205194746-1cf15e788288", "false"), dev + " (1cf15e788288, 2026-12-05T19:47:46Z)"},
		{"", vcs("v0.0.0-20261205194746-1cf15e788288+dirty", "true"), dev + " (1cf15e788288+modified, 2026-12-05T19:47:46Z)"},
		{"", mod("(devel)"), dev + " (no VCS stamp)"}, // -buildvcs=false, or no .git directory
		{"", nil, dev + " (no VCS stamp)"},
		{"v0.1.0-rc1", vcs("v0.0.0-20261205194746-1cf15e788288", "false"), "sharedarray v0.1.0-rc1"}, // -ldflags -X main.stamp=
	} {
		assert.Equal(t, versionLine(c.stamp, c.bi), c.want)
	}
}

// TestVersion: --version and version print one line: versionLine's, then
// the toolchain and platform.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--version", "version"} {
		code, out, _ := runCLI(arg)
		assert.Equal(t, code, 0)
		assert.Assert(t, strings.HasPrefix(out, "sharedarray "), out)
		assert.Assert(t, strings.HasSuffix(out, " "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n"), out)
	}
}

// TestVersionBuilds builds the CLI the ways docs/cli.md describes without a
// clone of its own (-buildvcs=false, -ldflags -X main.stamp) and runs it.
// A clean clone at a tag and a go install from the module proxy print
// build info's version (TestVersionLine's first cases).
func TestVersionBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI twice")
	}
	t.Parallel()
	dir := t.TempDir()
	// The go command builds for the host, which is not this test's
	// platform under an emulator (make arm64): the platform is not compared.
	suffix := " " + runtime.Version() + " "
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"-buildvcs=false"}, "sharedarray " + appversion.Version + "-devel (no VCS stamp)"},
		{[]string{"-buildvcs=false", "-ldflags=-X main.stamp=v9.8.7-test"}, "sharedarray v9.8.7-test"},
	} {
		bin := filepath.Join(dir, "sharedarray")
		out, err := exec.Command("go", append(append([]string{"build", "-o", bin}, c.flags...), ".")...).CombinedOutput()
		assert.NilError(t, err, "%s", out)
		out, err = exec.Command(bin, "--version").Output()
		assert.NilError(t, err)
		assert.Assert(t, strings.HasPrefix(string(out), c.want+suffix), "%q", out)
		os.Remove(bin)
	}
}

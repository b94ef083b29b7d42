// Package version holds the release this source tree is: the one place the
// version is written. The CLI's --version falls back to it when the build
// records no module version, python/pyproject.toml must declare the same
// (TestPythonVersion), and CHANGELOG.md's newest entry must name it
// (TestChangelog).
package version

// Version is the release this source tree is, or will be when tagged.
const Version = "v0.1.0"

package testutil

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
)

// StartHolder starts cmd, a child that prints "ready" on a line once it holds
// what it was told to, then waits for its stdin to close. It returns when
// the child is ready; when the test ends it closes the child's stdin and
// waits for it. what names the child in the failure message.
func StartHolder(t testing.TB, cmd *exec.Cmd, what string) *exec.Cmd {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("%s: %q, %v", what, line, err)
	}
	return cmd
}

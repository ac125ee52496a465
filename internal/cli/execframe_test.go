package cli

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// framingShells are the remote sides tried: this machine's tools, and busybox's alone where
// it is installed (as in the helper's default image).
func framingShells(t *testing.T) map[string][]string {
	t.Helper()
	shells := map[string][]string{"gnu": {"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Log("busybox is not installed: only this machine's tools are tried")
		return shells
	}
	dir := t.TempDir()
	for _, applet := range []string{"sh", "dd", "cat", "tar", "wc"} {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	shells["busybox"] = []string{"PATH=" + dir, "LC_ALL=C"}
	return shells
}

// runNeverClosed runs the framed cmd with stdin copied to it and never closed, as kwok's
// exec does; it fails the test if the command does not end within 20 s.
func runNeverClosed(t *testing.T, env []string, dir string, cmd []string, stdin io.Reader) (string, error) {
	t.Helper()
	cmd, stdin = FramedCommand(cmd, stdin)
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Env, c.Dir = env, dir
	in, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(in, stdin) }() // and never closed
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = c.Process.Kill()
		t.Fatalf("%v did not end: it waits for the end of its input", cmd[4:])
	}
	_ = in.Close()
	return out.String() + errOut.String(), err
}

func TestFramedCommandEndsTheInputThroughAStdinThatNeverCloses(t *testing.T) {
	data := make([]byte, 3*frameSize+12345)
	_, _ = rand.Read(data)
	for name, env := range framingShells(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// Read in halves: the frames are still whole.
			out, err := runNeverClosed(t, env, dir, []string{"sh", "-c", `cat > "$1"; echo done`, "sh", "copy"}, iotest.HalfReader(bytes.NewReader(data)))
			if err != nil || out != "done\n" {
				t.Fatalf("%v: %s", err, out)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "copy"))
			if !bytes.Equal(got, data) {
				t.Errorf("the copy has %d bytes, not the %d sent", len(got), len(data))
			}
			// An empty input is one frame, "0".
			if out, err := runNeverClosed(t, env, dir, []string{"sh", "-c", "wc -c"}, strings.NewReader("")); err != nil || strings.TrimSpace(out) != "0" {
				t.Errorf("empty input: %v: %q", err, out)
			}
			// tar reads to the end of the stream, and ends.
			var archive bytes.Buffer
			tw := tar.NewWriter(&archive)
			for _, f := range []struct{ name, body string }{{"a.txt", "alpha\n"}, {"sub/b.txt", strings.Repeat("b", 70000)}} {
				_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
				_, _ = tw.Write([]byte(f.body))
			}
			_ = tw.Close()
			if out, err := runNeverClosed(t, env, dir, []string{"tar", "-xf", "-"}, &archive); err != nil {
				t.Fatalf("tar -x: %v: %s", err, out)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "sub", "b.txt")); len(got) != 70000 {
				t.Errorf("sub/b.txt has %d bytes", len(got))
			}
			// The command's exit status is the command's, also when it stops reading early.
			_, err = runNeverClosed(t, env, dir, []string{"sh", "-c", "exit 3"}, bytes.NewReader(data))
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 3 {
				t.Errorf("exit 3 came back as %v", err)
			}
		})
	}
}

func TestFramedReaderFramesAndCutsOnAnError(t *testing.T) {
	got, err := io.ReadAll(&framedReader{src: strings.NewReader("hello"), buf: make([]byte, 3)})
	if err != nil || string(got) != "3\nhel2\nlo0\n" {
		t.Errorf("frames: %q, %v", got, err)
	}
	boom := errors.New("boom")
	got, err = io.ReadAll(&framedReader{src: io.MultiReader(strings.NewReader("abcd"), iotest.ErrReader(boom)), buf: make([]byte, 3)})
	if !errors.Is(err, boom) || string(got) != "3\nabc1\nd" {
		t.Errorf("a failing source: %q, %v", got, err)
	}
	if cmd, in := FramedCommand([]string{"ls", "-l"}, nil); in != nil || strings.Join(cmd, " ") != "ls -l" {
		t.Errorf("without stdin: %v", cmd)
	}
}

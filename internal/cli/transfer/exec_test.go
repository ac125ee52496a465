package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A standIn is a stand-in for a helper image: the commands run on this machine with the real
// sh, tar, find, stat, mv and sha256sum, in a temporary directory standing in for the NFS
// mount. "gnu" is this machine's own tools (as in ubuntu); "busybox" puts only busybox's
// applets on PATH (as in the busybox image: no find -printf, so listings take the stat path).
type standIn struct {
	name string
	env  []string
}

// busyboxApplets are the commands the remote scripts run.
var busyboxApplets = []string{"sh", "tar", "find", "stat", "readlink", "mv", "rm", "mkdir", "xargs", "sha256sum", "cat", "sleep"}

// shells are the stand-ins available here: gnu always, busybox where it is installed.
func shells(t *testing.T) []standIn {
	t.Helper()
	out := []standIn{{name: "gnu", env: []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}}}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Log("busybox is not installed: only the gnu tools are tried (apt-get install busybox adds it)")
		return out
	}
	dir := t.TempDir()
	for _, applet := range busyboxApplets {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	return append(out, standIn{name: "busybox", env: []string{"PATH=" + dir, "LC_ALL=C"}})
}

// forEachShell runs f as a subtest for each shell.
func forEachShell(t *testing.T, f func(t *testing.T, sh standIn)) {
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) { f(t, sh) })
	}
}

// exec is the shell's Exec: the command runs as a child process in its own process group;
// a done context kills the group, as a deleted helper pod would be.
func (sh standIn) exec() Exec {
	return func(ctx context.Context, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error {
		c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
		c.Env = sh.env
		c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
		c.WaitDelay = 10 * time.Second
		return c.Run()
	}
}

// droppingExec is an Exec whose stream drops (no signal to the command): a done context just
// cuts its stdin, as a broken pods/exec connection does, and the command finishes on its own.
func (sh standIn) droppingExec() Exec {
	return func(ctx context.Context, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error {
		c := exec.Command(cmd[0], cmd[1:]...)
		c.Env = sh.env
		c.Stdout, c.Stderr = stdout, stderr
		if stdin != nil {
			c.Stdin = ctxReader{ctx: ctx, r: stdin}
		}
		c.WaitDelay = 10 * time.Second
		return c.Run()
	}
}

// killAfter is an Exec that SIGKILLs the command's process group once n bytes went through
// its stdin (or, with onStdout, its stdout): a helper that dies halfway.
func (sh standIn) killAfter(n int64, onStdout bool) Exec {
	return func(ctx context.Context, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error {
		c := exec.Command(cmd[0], cmd[1:]...)
		c.Env = sh.env
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
		var once sync.Once
		kill := func() { once.Do(func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }) }
		switch {
		case onStdout:
			c.Stdout = &countingWriter{w: stdout, left: n, at: kill}
		case stdin != nil:
			c.Stdin = &countingReader{r: stdin, left: n, at: kill}
		}
		c.WaitDelay = 10 * time.Second
		return c.Run()
	}
}

type countingReader struct {
	r    io.Reader
	left int64
	at   func()
}

func (r *countingReader) Read(b []byte) (int, error) {
	if r.left <= 0 {
		r.at()
		return 0, errors.New("the helper died")
	}
	if int64(len(b)) > r.left {
		b = b[:r.left]
	}
	n, err := r.r.Read(b)
	r.left -= int64(n)
	return n, err
}

type countingWriter struct {
	w    io.Writer
	left int64
	at   func()
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > w.left {
		b = b[:w.left]
	}
	n, err := w.w.Write(b)
	w.left -= int64(n)
	if err == nil && w.left <= 0 {
		w.at()
		return n, errors.New("the helper died")
	}
	return n, err
}

// cancelAfter wraps an Exec so that ctx's cancel runs once n bytes of stdin (or stdout) went
// through: the user's ^C halfway.
func cancelAfter(inner Exec, n int64, onStdout bool, cancel context.CancelFunc) Exec {
	return func(ctx context.Context, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error {
		var once sync.Once
		at := func() { once.Do(cancel) }
		if onStdout {
			stdout = &cancelingWriter{w: stdout, left: n, at: at}
		} else if stdin != nil {
			stdin = &cancelingReader{r: stdin, left: n, at: at}
		}
		return inner(ctx, cmd, stdin, stdout, stderr)
	}
}

type cancelingReader struct {
	r    io.Reader
	left int64
	at   func()
}

func (r *cancelingReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if r.left -= int64(n); r.left <= 0 {
		r.at()
	}
	return n, err
}

type cancelingWriter struct {
	w    io.Writer
	left int64
	at   func()
}

func (w *cancelingWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	if w.left -= int64(n); w.left <= 0 {
		w.at()
	}
	return n, err
}

// recorder wraps an Exec and keeps a copy of what each upload stream (commitScript's stdin)
// carried.
type recorder struct {
	inner   Exec
	mu      sync.Mutex
	streams [][]byte
}

func (r *recorder) exec(ctx context.Context, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(cmd) < 3 || cmd[2] != commitScript || stdin == nil {
		return r.inner(ctx, cmd, stdin, stdout, stderr)
	}
	buf := &lockedBuffer{}
	err := r.inner(ctx, cmd, io.TeeReader(stdin, buf), stdout, stderr)
	r.mu.Lock()
	r.streams = append(r.streams, buf.bytes())
	r.mu.Unlock()
	return err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b = append(b.b, p...)
	return len(p), nil
}

func (b *lockedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.b)
}

// --- trees ---

// node is one entry of a test tree: a file's content, a directory ("/" at the end of its
// path), or a symlink ("-> target" as content).
type tree map[string]string

// write makes t below dir, with every file's mtime a fixed past second so that times compare
// exactly.
func (tr tree) write(t *testing.T, dir string) {
	t.Helper()
	keys := make([]string, 0, len(tr))
	for k := range tr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := tr[k]
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(k, "/")))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(k, "/"):
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(v, "-> "):
			if err := os.Symlink(strings.TrimPrefix(v, "-> "), p); err != nil {
				t.Fatal(err)
			}
		default:
			writeTestFile(t, p, v, past)
		}
	}
}

// past is a fixed time for test files.
var past = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func writeTestFile(t *testing.T, p, content string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// randomContent is n reproducible pseudo-random bytes.
func randomContent(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

// digest describes dir's tree: each path with "sha256 <sum> <perm>" for files, "dir" for
// directories, "-> target" for symlinks, and the files' mtimes to the second.
func digest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			out[rel] = "dir"
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "-> " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out[rel] = fmt.Sprintf("sha256 %s %v %d", hex.EncodeToString(sum[:]), info.Mode().Perm(), info.ModTime().Unix())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameDigest fails the test when the two digests differ, listing the differences.
func sameDigest(t *testing.T, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("missing %q (want %s)", k, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%q: got %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected %q (%s)", k, g))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Errorf("trees differ:\n  %s", strings.Join(diffs, "\n  "))
	}
}

// subtree is the part of a digest below prefix ("a" gives a's contents, renamed relative).
func subtree(d map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range d {
		if rest, ok := strings.CutPrefix(k, prefix+"/"); ok {
			out[rest] = v
		}
	}
	return out
}

// without is d less the paths for which drop says so.
func without(d map[string]string, drop func(string) bool) map[string]string {
	out := map[string]string{}
	for k, v := range d {
		if !drop(k) {
			out[k] = v
		}
	}
	return out
}

// stages are the staging directories left in dir.
func stages(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// partFiles are the .part files below dir.
func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".part") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// sampleTree is a tree with what trips transfers up: nested and empty directories, a
// megabyte-sized file, names with spaces, a newline, a leading dash and non-ASCII letters,
// a path longer than tar's 100 and 255 characters, dotfiles, symlinks inside the tree, an
// executable.
func sampleTree() tree {
	return tree{
		"README.md":             "# project\n",
		".hidden":               "dotfile",
		"..dots":                "two dots",
		"-dash":                 "leading dash",
		"with space.txt":        "spaces",
		"new\nline":             "a newline in the name",
		"héllo wörld.txt":       "non-ASCII",
		"data/big.bin":          randomContent(3<<20+17, 1),
		"data/empty":            "",
		"data/nested/deep/x.py": "print('x')\n",
		"data/link-to-big":      "-> big.bin",
		"data/up-link":          "-> ../README.md",
		"empty-dir/":            "",
		"data/nested/deep/" + strings.Repeat("a-rather-long-directory-name/", 5) + strings.Repeat("x", 120) + ".txt": "a path of 270 characters",
		"run.sh": "#!/bin/sh\necho run\n",
	}
}

func makeExecutable(t *testing.T, p string) {
	t.Helper()
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, past, past); err != nil {
		t.Fatal(err)
	}
}

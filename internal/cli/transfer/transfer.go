// Package transfer moves data between this machine and a Dora Volume through a short-lived
// helper container that mounts the volume, as kubectl cp does: tar streams over an exec
// channel. It never talks to the cluster: every remote command runs through an injected Exec,
// so the same code drives a real pod (pods/exec) and, in tests, a local directory standing in
// for the NFS mount.
//
// What it promises:
//   - Nothing half-written is ever in place. An upload lands in a hidden staging directory
//     beside its destination and is moved into place, file by file with rename, only once the
//     whole stream has arrived (its last entry is a marker); a download writes each file to
//     <file>.part and renames it when it is complete. An interrupted transfer can be run again.
//   - A download never writes outside its destination: absolute names, '..', names outside the
//     tree asked for, writes through symlinks and hard links to elsewhere are refused; symlinks
//     that point out of the tree, devices and FIFOs are skipped with a warning.
//   - Sync sends only what changed (size and mtime, optionally a checksum), honours .gitignore
//     and .dockerignore, and with Delete removes remote files gone locally, never those the
//     ignore files leave out.
//   - The remote side needs only sh, tar, find, mkdir, mv, rm and xargs, plus GNU find's
//     -printf or stat -c for listings (busybox has stat) and sha256sum for checksums: busybox
//     and ubuntu images both do.
package transfer

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"
)

// Exec runs cmd in the helper container, with stdin/stdout/stderr streams; it returns the
// command's exit error. A nil stdin means the command gets no standard input; a non-nil one
// is closed on the remote side when it returns io.EOF. Exec must return once ctx is done.
type Exec func(ctx context.Context, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error

// Options tune a transfer. The zero value is a plain, quiet transfer.
type Options struct {
	// Progress, when set, receives a one-line progress bar (bytes/total, rate, ETA) redrawn
	// with '\r', and a final line ending in '\n'.
	Progress io.Writer
	// Warnings, when set, receives one line per entry left out (a symlink out of the tree, a
	// device) and what the remote commands printed on standard error while succeeding.
	Warnings io.Writer
	// Name is what the file or directory is called at the destination of Upload or Download;
	// empty keeps the source's base name. It must be one path element.
	Name string

	// Delete makes Sync remove remote files and directories that are gone locally (never
	// those the ignore files leave out: they are not the sync's to judge).
	Delete bool
	// Checksum makes Sync compare SHA-256 checksums of files whose sizes match but whose
	// modification times differ, instead of sending them.
	Checksum bool
	// DryRun makes Sync work out and report what it would send and delete, and change
	// nothing.
	DryRun bool
	// NoIgnoreFiles makes Sync send everything, ignoring .gitignore and .dockerignore.
	NoIgnoreFiles bool
	// Exclude are more gitignore-style patterns for Sync, relative to the local directory and
	// of the highest precedence (as git's command-line excludes).
	Exclude []string
}

// Stats says what a transfer did.
type Stats struct {
	// Files, Dirs and Symlinks are the entries sent (Upload, Sync) or written (Download).
	Files    int `json:"files"`
	Dirs     int `json:"dirs"`
	Symlinks int `json:"symlinks"`
	// Bytes is the file content moved.
	Bytes int64 `json:"bytes"`
	// Unchanged is the number of files and symlinks Sync found already up to date.
	Unchanged int `json:"unchanged,omitempty"`
	// Ignored is the number of local paths Sync left out through the ignore files (a
	// directory left out counts once, its contents not at all).
	Ignored int `json:"ignored,omitempty"`
	// Deleted is the number of remote paths Sync removed (a directory counts once).
	Deleted int `json:"deleted,omitempty"`
	// Skipped is the number of entries left out as unsafe or unsupported (see
	// Options.Warnings).
	Skipped int `json:"skipped,omitempty"`
	// Sent are the paths Sync sent, or would send on a dry run, relative to the local
	// directory, with '/' separators.
	Sent []string `json:"sent,omitempty"`
	// Removed are the remote paths Sync deleted, or would delete, relative to the remote
	// directory.
	Removed []string `json:"removed,omitempty"`
	// Duration is how long the transfer took.
	Duration time.Duration `json:"duration"`
}

// RemoteError is a remote command that failed: what it was doing, its error and the end of
// what it printed on standard error.
type RemoteError struct {
	// Op says what the command was for, such as "list /data".
	Op string
	// Stderr is the last few kilobytes the command wrote to standard error, trimmed.
	Stderr string
	// Err is the error Exec returned.
	Err error
}

func (e *RemoteError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Op, e.Err, e.Stderr)
}

func (e *RemoteError) Unwrap() error { return e.Err }

// RemotePath is the path in the helper container of p, a path inside the volume mounted at
// root. p may be given relative ("data/x") or as users see the volume ("/data/x", relative to
// the volume's top); a p that climbs out of the volume with '..' is refused.
func RemotePath(root, p string) (string, error) {
	if !strings.HasPrefix(root, "/") {
		return "", fmt.Errorf("mount path %q must be absolute", root)
	}
	depth := 0
	var parts []string
	for part := range strings.SplitSeq(p, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return "", fmt.Errorf("path %q leads out of the volume", p)
			}
			parts = parts[:len(parts)-1]
		default:
			depth++
			parts = append(parts, part)
		}
	}
	return path.Join(append([]string{path.Clean(root)}, parts...)...), nil
}

// shell runs script with sh -c in the helper container, args as its positional parameters
// ($1, $2, ...), so no path is ever quoted into a script. The error says what op was for,
// with the end of the command's standard error; on success that output goes to warn.
func shell(ctx context.Context, exec Exec, op, script string, stdin io.Reader, stdout io.Writer, warn io.Writer, args ...string) error {
	stderr := &tailBuffer{max: 8 << 10}
	cmd := append([]string{"sh", "-c", script, "sh"}, args...)
	err := exec(ctx, cmd, stdin, stdout, stderr)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: %w", op, ctxErr)
		}
		return &RemoteError{Op: op, Err: err, Stderr: strings.TrimSpace(stderr.String())}
	}
	if msg := strings.TrimSpace(stderr.String()); msg != "" && warn != nil {
		_, _ = fmt.Fprintln(warn, msg)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it; Exec may write to it from any goroutine.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// validName checks a destination name (Options.Name, or a source's base name): one path
// element, not "." or "..".
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%q is not a file name", name)
	}
	return nil
}

// warnf writes one warning line when w is set.
func warnf(w io.Writer, format string, args ...any) {
	if w != nil {
		_, _ = fmt.Fprintf(w, "warning: "+format+"\n", args...)
	}
}

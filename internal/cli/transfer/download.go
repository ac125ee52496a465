package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// downloadScript writes a tar of $2 (a name in the directory $1) to stdout; a symlink to a
// directory is followed, as ls and cp do for a path given by name.
const downloadScript = `export LC_ALL=C
cd "$1" || exit 1
if [ ! -e "$2" ] && [ ! -L "$2" ]; then echo "` + notFoundMarker + `" >&2; exit 2; fi
if [ -L "$2" ] && [ -d "$2" ]; then exec tar -cf - "./$2/."; fi
exec tar -cf - "./$2"
`

// notFoundMarker is what the scripts print when the path asked for is not there.
const notFoundMarker = "dora-transfer: no such file or directory"

// Download fetches remotePath, a file or a directory in the helper container (see
// RemotePath), into localDir (made when missing): the result is localDir/<name>, name being
// Options.Name or remotePath's base name. Existing local files are replaced, others stay.
// Each file is written to <file>.part and renamed when whole, so an interrupted download
// leaves no half file and can be run again. Entries that would land outside localDir/<name>
// stop the download with ErrUnsafeEntry; symlinks pointing out of it, devices and FIFOs are
// skipped (Stats.Skipped, Options.Warnings).
func Download(ctx context.Context, exec Exec, remotePath, localDir string, opts Options) (Stats, error) {
	start := time.Now()
	var stats Stats
	src, err := cleanRemoteDir(remotePath)
	if err != nil {
		return stats, err
	}
	if src == "/" {
		return stats, fmt.Errorf("download %s: name a file or directory, not the container's root", remotePath)
	}
	dir, base := path.Dir(src), path.Base(src)
	name := opts.Name
	if name == "" {
		name = base
	}
	if err := validName(name); err != nil {
		return stats, fmt.Errorf("download %s: the local name: %w", remotePath, err)
	}
	root, err := filepath.Abs(localDir)
	if err != nil {
		return stats, fmt.Errorf("download %s: %w", remotePath, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return stats, fmt.Errorf("download %s: %w", remotePath, err)
	}
	// The total, for the progress bar only: it costs a listing of the tree.
	var total int64
	if opts.Progress != nil {
		entries, _, err := findRemote(ctx, exec, src, 0, nil)
		if err != nil {
			return stats, fmt.Errorf("download %s: %w", remotePath, err)
		}
		for _, e := range entries {
			if e.Mode.IsRegular() {
				total += e.Size
			}
		}
	}
	prog := newProgress(opts.Progress, "download "+name, total)
	op := "download " + src

	pr, pw := io.Pipe()
	remote := make(chan error, 1)
	// The remote side's warnings wait for the end: the extraction writes its own meanwhile.
	var remoteWarnings bytes.Buffer
	go func() {
		err := shell(ctx, exec, op, downloadScript, nil, pw, &remoteWarnings, dir, base)
		if err != nil {
			_ = pw.CloseWithError(err)
		} else {
			_ = pw.Close()
		}
		remote <- err
	}()
	x := newExtractor(root, base, name, opts.Warnings, prog, &stats)
	extractErr := x.extract(ctx, pr)
	if extractErr == nil {
		// tar pads its archive past the end marker: read it out, or the remote side fails
		// writing it.
		_, _ = io.Copy(io.Discard, pr)
	}
	// Whatever stopped the extraction also stops the remote side: its writes fail.
	_ = pr.CloseWithError(errLocalStopped)
	remoteErr := <-remote
	prog.finish()
	if opts.Warnings != nil {
		_, _ = remoteWarnings.WriteTo(opts.Warnings)
	}
	stats.Duration = time.Since(start)

	switch {
	case extractErr == nil && remoteErr == nil:
		return stats, nil
	case ctx.Err() != nil:
		return stats, fmt.Errorf("%s: %w", op, ctx.Err())
	case errors.Is(extractErr, ErrUnsafeEntry):
		return stats, fmt.Errorf("%s: %w", op, extractErr)
	case remoteErr != nil:
		var re *RemoteError
		if errors.As(remoteErr, &re) && strings.Contains(re.Stderr, notFoundMarker) {
			return stats, fmt.Errorf("%s: %w", op, fs.ErrNotExist)
		}
		return stats, remoteErr
	case extractErr != nil:
		return stats, fmt.Errorf("%s: %w", op, extractErr)
	}
	return stats, nil
}

// errLocalStopped is what the remote side's writes see once the extraction stopped.
var errLocalStopped = errors.New("the download stopped reading")

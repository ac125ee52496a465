package transfer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// commitScript receives an upload stream on stdin into $1 (the destination directory, made
// when missing): it extracts it into the hidden staging directory $1/$2, and only once the
// complete marker has arrived applies the delete list and moves the data into place, file by
// file with mv (a rename: each file appears whole or not at all). A directory that is not
// there yet moves in whole. The staging directory goes on every exit; one left by a helper
// that was killed outright is swept by the next upload to that directory after a day (no
// helper lives that long: its maxRunTime stops it first).
const commitScript = `set -e
export LC_ALL=C
dest=$1
stage=$1/$2
mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 -name '` + stagePrefix + `*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
mkdir "$stage"
trap 'cd /; rm -rf "$stage"' EXIT
trap 'exit 130' HUP INT TERM PIPE
tar -xof - -C "$stage"
if [ ! -e "$stage/` + stageComplete + `" ]; then
	echo "dora-transfer: the stream was cut short; nothing was changed" >&2
	exit 3
fi
if [ -f "$stage/` + stageDelete + `" ]; then
	(cd "$dest" && xargs -0 -r rm -rf -- < "$stage/` + stageDelete + `") || exit 1
fi
merge() {
	if [ -d "$1" ] && [ ! -L "$1" ] && [ -d "$dest/$1" ] && [ ! -L "$dest/$1" ]; then
		for c in "$1"/* "$1"/.[!.]* "$1"/..?*; do
			if [ -e "$c" ] || [ -L "$c" ]; then merge "$c" || exit 1; fi
		done
	elif [ -d "$dest/$1" ] && [ ! -L "$dest/$1" ]; then
		echo "dora-transfer: $dest/$1 is a directory, where the upload has a file" >&2
		exit 1
	elif [ -d "$1" ] && [ ! -L "$1" ] && { [ -e "$dest/$1" ] || [ -L "$dest/$1" ]; }; then
		echo "dora-transfer: $dest/$1 is a file, where the upload has a directory" >&2
		exit 1
	else
		if [ -L "$dest/$1" ]; then rm -f "$dest/$1" || exit 1; fi
		mv -f "$1" "$dest/$1" || exit 1
	fi
}
if [ -d "$stage/` + stageData + `" ]; then
	cd "$stage/` + stageData + `"
	for c in * .[!.]* ..?*; do
		if [ -e "$c" ] || [ -L "$c" ]; then merge "./$c"; fi
	done
fi
`

// Upload sends localPath, a file or a directory (a symlink to one is followed), into
// remoteDir, a directory in the helper container (see RemotePath), made when missing: the
// result is remoteDir/<name>, name being Options.Name or localPath's base name, as cp -r and
// scp do. A directory is merged into one that is already there: files are replaced, others
// stay. Nothing appears at the destination before the whole stream has arrived, and each
// file is renamed into place whole, so an interrupted upload can be run again.
func Upload(ctx context.Context, exec Exec, localPath, remoteDir string, opts Options) (Stats, error) {
	start := time.Now()
	var stats Stats
	src, err := filepath.Abs(localPath)
	if err != nil {
		return stats, fmt.Errorf("upload %s: %w", localPath, err)
	}
	if src, err = filepath.EvalSymlinks(src); err != nil {
		return stats, fmt.Errorf("upload %s: %w", localPath, err)
	}
	name := opts.Name
	if name == "" {
		name = filepath.Base(src)
	}
	if err := validName(name); err != nil {
		return stats, fmt.Errorf("upload %s: the name at the destination: %w", localPath, err)
	}
	dest, err := cleanRemoteDir(remoteDir)
	if err != nil {
		return stats, err
	}
	items, err := collectTree(src, name, opts.Warnings, &stats)
	if err != nil {
		return stats, err
	}
	prog := newProgress(opts.Progress, "upload "+name, totalBytes(items))
	err = sendStream(ctx, exec, "upload "+localPath+" to "+path.Join(dest, name), dest, items, nil, prog, &stats, opts.Warnings)
	prog.finish()
	stats.Duration = time.Since(start)
	return stats, err
}

// sendStream streams items (and deletes) to commitScript in dest.
func sendStream(ctx context.Context, exec Exec, op, dest string, items []localItem, deletes []string, prog *progress, stats *Stats, warn io.Writer) error {
	stage := stageName()
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := writeTar(ctx, pw, items, deletes, prog, stats)
		_ = pw.CloseWithError(err)
		written <- err
	}()
	remoteErr := shell(ctx, exec, op, commitScript, pr, io.Discard, warn, dest, stage)
	// A remote side that stopped reading must not leave the writer blocked.
	_ = pr.CloseWithError(errRemoteStopped)
	writeErr := <-written
	// The remote side commits only once the marker, written last, has arrived: its success
	// is the upload's, even when it stopped reading before the archive's closing blocks, or
	// the context ended just after.
	if remoteErr == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	// A local failure (a file that could not be read) cuts the stream, so the remote side
	// fails too: the local error is the one that says why.
	if writeErr != nil && !errors.Is(writeErr, errRemoteStopped) {
		return fmt.Errorf("%s: %w", op, writeErr)
	}
	return remoteErr
}

// errRemoteStopped is what the stream writer sees when the remote side stopped reading.
var errRemoteStopped = errors.New("the remote side stopped reading")

// stageName is a fresh name for a staging directory.
func stageName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return stagePrefix + hex.EncodeToString(b)
}

// cleanRemoteDir checks that a remote directory is an absolute path and cleans it.
func cleanRemoteDir(dir string) (string, error) {
	if !strings.HasPrefix(dir, "/") {
		return "", fmt.Errorf("remote path %q must be absolute (see RemotePath)", dir)
	}
	return path.Clean(dir), nil
}

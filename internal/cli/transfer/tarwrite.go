package transfer

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Names inside an upload's staging directory. The stream holds data/<paths>, then the
// optional delete list, then the complete marker, always last: the remote side changes
// nothing unless the marker arrived, so a stream cut anywhere, even between two entries
// (which tar itself takes for a finished archive), changes nothing.
const (
	stageData     = "data"
	stageDelete   = "delete"
	stageComplete = "complete"
	stagePrefix   = ".dora-partial-"
)

// localItem is one local path to send.
type localItem struct {
	// Rel is the path at the destination, '/'-separated, relative to the remote directory.
	Rel  string
	Abs  string
	Info fs.FileInfo
	// Link is a symlink's target.
	Link string
}

// collectTree lists what Upload sends of src (a file, a directory or a symlink), named name
// at the destination, skipping sockets, devices and FIFOs with a warning.
func collectTree(src, name string, warn io.Writer, stats *Stats) ([]localItem, error) {
	var items []localItem
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := name
		if p != src {
			sub, err := filepath.Rel(src, p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			rel = name + "/" + filepath.ToSlash(sub)
		}
		item, ok, err := newLocalItem(p, rel, d)
		if err != nil {
			return err
		}
		if !ok {
			stats.Skipped++
			warnf(warn, "%s: skipped: only files, directories and symlinks are sent", p)
			return nil
		}
		items = append(items, item)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src, err)
	}
	return items, nil
}

// newLocalItem describes p; ok is false for what a tar of ours does not carry.
func newLocalItem(p, rel string, d fs.DirEntry) (localItem, bool, error) {
	info, err := d.Info()
	if err != nil {
		return localItem{}, false, fmt.Errorf("%s: %w", p, err)
	}
	item := localItem{Rel: rel, Abs: p, Info: info}
	switch {
	case info.Mode().IsRegular(), info.IsDir():
	case info.Mode()&fs.ModeSymlink != 0:
		if item.Link, err = os.Readlink(p); err != nil {
			return localItem{}, false, fmt.Errorf("%s: %w", p, err)
		}
	default:
		return localItem{}, false, nil
	}
	return item, true, nil
}

// totalBytes is the file content of items.
func totalBytes(items []localItem) int64 {
	var n int64
	for _, it := range items {
		if it.Info.Mode().IsRegular() {
			n += it.Info.Size()
		}
	}
	return n
}

// writeTar writes the upload stream: items under data/, the delete list, the marker. Owners
// are left out (the remote side extracts as itself, tar -o); times are whole seconds, as the
// listings compare them.
func writeTar(ctx context.Context, w io.Writer, items []localItem, deletes []string, prog *progress, stats *Stats) error {
	tw := tar.NewWriter(w)
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeItem(ctx, tw, it, prog, stats); err != nil {
			return err
		}
	}
	if len(deletes) > 0 {
		list := strings.Join(deletes, "\x00") + "\x00"
		if err := writeFile(tw, stageDelete, []byte(list)); err != nil {
			return err
		}
	}
	if err := writeFile(tw, stageComplete, nil); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	return nil
}

func writeItem(ctx context.Context, tw *tar.Writer, it localItem, prog *progress, stats *Stats) error {
	mode := it.Info.Mode()
	hdr := &tar.Header{
		Name:    stageData + "/" + it.Rel,
		Mode:    int64(tarPerm(mode)),
		ModTime: it.Info.ModTime().Truncate(1e9),
	}
	switch {
	case mode.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case mode&fs.ModeSymlink != 0:
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = it.Link
	default:
		hdr.Typeflag = tar.TypeReg
		hdr.Size = it.Info.Size()
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", it.Abs, err)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		stats.Dirs++
		return nil
	case tar.TypeSymlink:
		stats.Symlinks++
		return nil
	}
	f, err := os.Open(it.Abs)
	if err != nil {
		return fmt.Errorf("reading %s: %w", it.Abs, err)
	}
	defer func() { _ = f.Close() }()
	n, err := io.CopyN(tw, progressReader{r: ctxReader{ctx: ctx, r: f}, p: prog}, hdr.Size)
	stats.Bytes += n
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if n < hdr.Size {
			return fmt.Errorf("reading %s: it shrank while it was being sent (%d of %d bytes): %w", it.Abs, n, hdr.Size, err)
		}
		return fmt.Errorf("sending %s: %w", it.Abs, err)
	}
	stats.Files++
	return nil
}

// writeFile writes a small file entry.
func writeFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(data))}); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	return nil
}

// tarPerm is the permission bits of mode as tar stores them (with setuid, setgid, sticky).
func tarPerm(mode fs.FileMode) uint32 {
	perm := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		perm |= unixSetuid
	}
	if mode&fs.ModeSetgid != 0 {
		perm |= unixSetgid
	}
	if mode&fs.ModeSticky != 0 {
		perm |= unixSticky
	}
	return perm
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(b)
}

package transfer

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrUnsafeEntry is a download entry that would write outside the destination: an absolute
// name, a '..', a name outside the tree asked for, a write through a symlink, a hard link to
// elsewhere. The whole download stops at the first one.
var ErrUnsafeEntry = errors.New("unsafe entry in the download")

// extractor writes a download's tar stream below root. Every entry must be top (the remote
// base name) or below it; it is written as name. Files go to <file>.part and are renamed when
// whole. Nothing is written through a symlink, whether the archive made it or it was there.
type extractor struct {
	root  string
	top   string
	name  string
	warn  io.Writer
	prog  *progress
	stats *Stats

	// dirs are the directories (relative to root) known to be real directories.
	dirs map[string]bool
	// files are the regular files written by this download, the only hard link targets.
	files map[string]bool
	// modes are the directories' modes and times, set at the end (a read-only directory
	// would refuse what comes after it).
	modes []dirMode
}

type dirMode struct {
	path  string
	perm  fs.FileMode
	mtime time.Time
}

func newExtractor(root, top, name string, warn io.Writer, prog *progress, stats *Stats) *extractor {
	return &extractor{
		root: root, top: top, name: name, warn: warn, prog: prog, stats: stats,
		dirs: map[string]bool{"": true}, files: map[string]bool{},
	}
}

// extract reads the whole stream.
func (x *extractor) extract(ctx context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the download: %w", err)
		}
		rel, err := x.localName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = x.dir(rel, hdr)
		case tar.TypeReg, tar.TypeGNUSparse:
			err = x.file(ctx, rel, hdr, tr)
		case tar.TypeSymlink:
			err = x.symlink(rel, hdr)
		case tar.TypeLink:
			err = x.hardlink(rel, hdr)
		default:
			x.skip("%s: skipped: a %s, not a file, directory or link", rel, typeName(hdr.Typeflag))
		}
		if err != nil {
			return err
		}
	}
	return x.finish()
}

// localName checks an entry's name and maps it to its path below root.
func (x *extractor) localName(name string) (string, error) {
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || filepath.IsAbs(name) {
		return "", fmt.Errorf("%w: %q is an absolute path", ErrUnsafeEntry, name)
	}
	var parts []string
	for part := range strings.SplitSeq(name, "/") {
		switch part {
		case "", ".":
		case "..":
			return "", fmt.Errorf("%w: %q climbs out with '..'", ErrUnsafeEntry, name)
		default:
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 || parts[0] != x.top {
		return "", fmt.Errorf("%w: %q is outside %s, the path asked for", ErrUnsafeEntry, name, x.top)
	}
	parts[0] = x.name
	return strings.Join(parts, "/"), nil
}

// ensureDir makes rel and its parents as real directories, refusing symlinks and files in
// the way.
func (x *extractor) ensureDir(rel string) error {
	if x.dirs[rel] {
		return nil
	}
	if err := x.ensureDir(parentOf(rel)); err != nil {
		return err
	}
	full := x.path(rel)
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(full, 0o755); err != nil {
			return fmt.Errorf("making %s: %w", full, err)
		}
	case err != nil:
		return fmt.Errorf("reading %s: %w", full, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symlink and the download would write through it", ErrUnsafeEntry, full)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory, and the download has files below it", full)
	}
	x.dirs[rel] = true
	return nil
}

func (x *extractor) dir(rel string, hdr *tar.Header) error {
	if err := x.ensureDir(rel); err != nil {
		return err
	}
	x.modes = append(x.modes, dirMode{path: x.path(rel), perm: hdr.FileInfo().Mode().Perm() | 0o700, mtime: hdr.ModTime})
	x.stats.Dirs++
	return nil
}

// file writes a regular file to <file>.part and renames it into place once it is whole.
func (x *extractor) file(ctx context.Context, rel string, hdr *tar.Header, r io.Reader) error {
	part, err := x.prepare(rel)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", part, err)
	}
	n, err := io.Copy(f, progressReader{r: ctxReader{ctx: ctx, r: r}, p: x.prog})
	x.stats.Bytes += n
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Chmod(part, hdr.FileInfo().Mode().Perm())
	}
	if err == nil {
		err = os.Chtimes(part, hdr.ModTime, hdr.ModTime)
	}
	if err == nil {
		err = x.commit(part, rel)
	}
	if err != nil {
		_ = os.Remove(part)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("writing %s: %w", x.path(rel), err)
	}
	x.files[rel] = true
	x.stats.Files++
	return nil
}

// symlink makes a symlink whose target stays inside the tree; others are skipped.
func (x *extractor) symlink(rel string, hdr *tar.Header) error {
	if !x.linkStaysInside(rel, hdr.Linkname) {
		x.skip("%s: skipped: a symlink to %q, outside what was downloaded", rel, hdr.Linkname)
		return nil
	}
	part, err := x.prepare(rel)
	if err != nil {
		return err
	}
	if err := os.Symlink(hdr.Linkname, part); err != nil {
		return fmt.Errorf("writing %s: %w", x.path(rel), err)
	}
	if err := x.commit(part, rel); err != nil {
		_ = os.Remove(part)
		return fmt.Errorf("writing %s: %w", x.path(rel), err)
	}
	x.stats.Symlinks++
	return nil
}

// hardlink links to a file this download wrote; anything else is refused.
func (x *extractor) hardlink(rel string, hdr *tar.Header) error {
	target, err := x.localName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link %s: %w", rel, err)
	}
	if !x.files[target] {
		return fmt.Errorf("%w: hard link %s to %q, which is not a file of this download", ErrUnsafeEntry, rel, hdr.Linkname)
	}
	part, err := x.prepare(rel)
	if err != nil {
		return err
	}
	if err := os.Link(x.path(target), part); err != nil {
		return fmt.Errorf("writing %s: %w", x.path(rel), err)
	}
	if err := x.commit(part, rel); err != nil {
		_ = os.Remove(part)
		return fmt.Errorf("writing %s: %w", x.path(rel), err)
	}
	x.files[rel] = true
	x.stats.Files++
	return nil
}

// prepare makes rel's parents and picks its .part name: <file>.part, or with '~' added while
// that is a file this download wrote. A stale .part (from an interrupted run) is removed
// first, never opened: it could be a symlink planted there.
func (x *extractor) prepare(rel string) (string, error) {
	if err := x.ensureDir(parentOf(rel)); err != nil {
		return "", err
	}
	full := x.path(rel)
	if fi, err := os.Lstat(full); err == nil && fi.IsDir() {
		return "", fmt.Errorf("%s is a directory, where the download has a file", full)
	}
	partRel := rel + ".part"
	for x.files[partRel] {
		partRel += "~"
	}
	part := x.path(partRel)
	if err := os.Remove(part); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("removing %s: %w", part, err)
	}
	return part, nil
}

// commit renames part over rel (a symlink there is replaced, not followed).
func (x *extractor) commit(part, rel string) error {
	if err := os.Rename(part, x.path(rel)); err != nil {
		return fmt.Errorf("renaming into place: %w", err)
	}
	delete(x.dirs, rel)
	return nil
}

// linkStaysInside reports whether a symlink at rel to target resolves inside the tree
// downloaded, whatever the symlinks on the way: target must be relative, climb ('..') only
// at its start and only through real directories of the tree (rel's parents, which ensureDir
// made sure of), and then only go down. Going down through other symlinks of the tree is safe
// because each of them passed the same test.
func (x *extractor) linkStaysInside(rel, target string) bool {
	if target == "" || strings.HasPrefix(target, "/") || filepath.IsAbs(target) {
		return false
	}
	// The link's parent is depth directories below the tree's top: it may climb that many.
	// A top-level link (a symlink downloaded by itself) points out of the tree whatever it
	// says.
	depth := strings.Count(rel, "/") - 1
	if depth < 0 {
		return false
	}
	climbing := true
	for part := range strings.SplitSeq(target, "/") {
		switch part {
		case "", ".":
		case "..":
			if !climbing {
				return false
			}
			depth--
			if depth < 0 {
				return false
			}
		default:
			climbing = false
		}
	}
	return true
}

// finish sets the directories' modes and times, deepest first.
func (x *extractor) finish() error {
	slices.Reverse(x.modes)
	for _, m := range x.modes {
		if err := os.Chmod(m.path, m.perm); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", m.path, err)
		}
		if err := os.Chtimes(m.path, m.mtime, m.mtime); err != nil {
			return fmt.Errorf("setting the time of %s: %w", m.path, err)
		}
	}
	return nil
}

func (x *extractor) skip(format string, args ...any) {
	x.stats.Skipped++
	warnf(x.warn, format, args...)
}

func (x *extractor) path(rel string) string {
	return filepath.Join(x.root, filepath.FromSlash(rel))
}

// parentOf is rel's parent, "" for a top-level name.
func parentOf(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	default:
		return fmt.Sprintf("tar entry of type %q", flag)
	}
}

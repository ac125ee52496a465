package transfer

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Entry is one file, directory or symlink of a volume.
type Entry struct {
	// Name is the entry's name in the directory listed (the file's own name when a file was
	// listed).
	Name string `json:"name"`
	// Size is the size in bytes (a symlink's is the length of its target).
	Size int64 `json:"size"`
	// Mode holds the type and permission bits.
	Mode fs.FileMode `json:"mode"`
	// ModTime is the last modification time.
	ModTime time.Time `json:"modTime"`
	// LinkTarget is a symlink's target, when the helper image could read it (GNU find).
	LinkTarget string `json:"linkTarget,omitempty"`
}

// IsDir reports whether the entry is a directory.
func (e Entry) IsDir() bool { return e.Mode.IsDir() }

// IsSymlink reports whether the entry is a symlink.
func (e Entry) IsSymlink() bool { return e.Mode&fs.ModeSymlink != 0 }

// List lists p, a path inside the volume mounted at root in the helper container (see
// RemotePath): a directory's entries sorted by name, or a file alone. A p that does not exist
// is an error for which errors.Is(err, fs.ErrNotExist) holds.
func List(ctx context.Context, exec Exec, root, p string) ([]Entry, error) {
	dir, err := RemotePath(root, p)
	if err != nil {
		return nil, err
	}
	found, _, err := findRemote(ctx, exec, dir, 1, nil)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(found))
	for _, f := range found {
		entries = append(entries, Entry{Name: f.Path, Size: f.Size, Mode: f.Mode, ModTime: f.ModTime, LinkTarget: f.Link})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}

// TableOptions shape WriteTable's output.
type TableOptions struct {
	// NoHeaders leaves out the header line.
	NoHeaders bool
	// HumanSizes writes sizes as 1.5K, 20M, 3.1G (powers of 1024), as ls -h does.
	HumanSizes bool
	// Location is the time zone of the times; nil is the local one.
	Location *time.Location
}

// WriteTable writes entries as a table: MODE SIZE MODIFIED NAME, ls -l style modes, sizes
// aligned right, a '/' after directory names and "-> target" after symlinks.
func WriteTable(w io.Writer, entries []Entry, opts TableOptions) error {
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	sizes := make([]string, len(entries))
	width := len("SIZE")
	for i, e := range entries {
		sizes[i] = strconv.FormatInt(e.Size, 10)
		if opts.HumanSizes {
			sizes[i] = humanSize(e.Size)
		}
		width = max(width, len(sizes[i]))
	}
	var b strings.Builder
	if !opts.NoHeaders {
		fmt.Fprintf(&b, "%-10s  %*s  %-16s  %s\n", "MODE", width, "SIZE", "MODIFIED", "NAME")
	}
	for i, e := range entries {
		name := e.Name
		switch {
		case e.IsDir():
			name += "/"
		case e.IsSymlink() && e.LinkTarget != "":
			name += " -> " + e.LinkTarget
		}
		fmt.Fprintf(&b, "%-10s  %*s  %-16s  %s\n", modeString(e.Mode), width, sizes[i], e.ModTime.In(loc).Format("2006-01-02 15:04"), name)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the listing: %w", err)
	}
	return nil
}

// modeString writes a mode as ls -l does: drwxr-xr-x, -rwsr-xr-x, lrwxrwxrwx, drwxrwxrwt.
func modeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	case m&fs.ModeIrregular != 0:
		b[0] = '?'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	special := func(pos int, set bool, lower, upper byte) {
		if !set {
			return
		}
		if b[pos] == 'x' {
			b[pos] = lower
		} else {
			b[pos] = upper
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b)
}

// humanSize writes a size as ls -h does: up to 1023 bytes plainly, then one decimal below 10
// of a unit (1.5K) and none above (20M).
func humanSize(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprint(n)
	}
	v := float64(n)
	i := -1
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%c", v, units[i])
	}
	return fmt.Sprintf("%.0f%c", v, units[i])
}

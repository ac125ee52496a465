package transfer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// remoteEntry is one path the remote listing found.
type remoteEntry struct {
	// Path is relative to the listed directory, '/'-separated; for a listed file it is the
	// file's base name.
	Path    string
	Mode    fs.FileMode
	Size    int64
	ModTime time.Time
	// Link is a symlink's target; empty for other entries, and for symlinks when the helper
	// image has no GNU find (the stat fallback does not read targets).
	Link string
}

// findScript lists $1: the directory's contents ($2 is the depth, "" for all of it) or, for a
// file, the file itself. Its first line says which format follows:
//
//	missing   nothing is there
//	gnu KIND  GNU find -printf records: "TYPE SIZE MTIME PERM PATH\0LINK\0"
//	stat KIND batches from statBatchScript (find without -printf: busybox)
//
// where KIND is dir (what follows is the directory's contents) or file (the file itself).
//
// The paths are never parsed out of a line: GNU find ends them with NUL, and the stat batches
// send names NUL-terminated apart from the numbers, so any name (spaces, newlines) survives.
const findScript = `export LC_ALL=C
p=$1
batch=$3
if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo missing; exit 0; fi
if [ -d "$p" ]; then start=$p/.; min=1; kind=dir; else start=$p; min=0; kind=file; fi
set -- "$start" -mindepth "$min" ${2:+-maxdepth "$2"}
if find "$start" -maxdepth 0 -printf '' >/dev/null 2>&1; then
	echo "gnu $kind"
	exec find "$@" -printf '%y %s %T@ %m %P\0%l\0'
fi
if ! command -v stat >/dev/null 2>&1; then
	echo "the helper image has neither GNU find nor stat: use an image such as busybox or ubuntu" >&2
	exit 127
fi
echo "stat $kind"
export start
exec find "$@" -exec sh -c "$batch" sh {} +
`

// statBatchScript describes the paths it is given: their count on a line, each name
// NUL-terminated (relative to $start, as GNU find's %P), one "RAWMODE SIZE MTIME" line each
// (stat -c, hexadecimal mode), then the target of each symlink NUL-terminated.
const statBatchScript = `printf '%d\n' "$#"
for f; do r=${f#"$start"}; printf '%s\0' "${r#/}"; done
stat -c '%f %s %Y' "$@" || exit 1
for f; do if [ -L "$f" ]; then printf '%s\0' "$(readlink "$f")"; fi; done
`

// findRemote lists dir (maxDepth 0: everything below it), and says whether it is a
// directory: a dir that is a file lists the file alone. A dir that does not exist is an error
// for which errors.Is(err, fs.ErrNotExist) holds.
func findRemote(ctx context.Context, exec Exec, dir string, maxDepth int, warn io.Writer) ([]remoteEntry, bool, error) {
	depth := ""
	if maxDepth > 0 {
		depth = strconv.Itoa(maxDepth)
	}
	var out bytes.Buffer
	if err := shell(ctx, exec, "list "+dir, findScript, nil, &out, warn, dir, depth, statBatchScript); err != nil {
		return nil, false, err
	}
	entries, isDir, err := parseFind(&out)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", dir, err)
	}
	if entries == nil {
		return nil, false, fmt.Errorf("%s: %w", dir, fs.ErrNotExist)
	}
	for i := range entries {
		if entries[i].Path == "" {
			entries[i].Path = path.Base(dir)
		}
	}
	return entries, isDir, nil
}

// parseFind reads findScript's output. It returns nil for "missing" and an empty, non-nil
// slice for an empty directory.
func parseFind(r io.Reader) ([]remoteEntry, bool, error) {
	br := bufio.NewReader(r)
	header, err := br.ReadString('\n')
	if err != nil {
		return nil, false, fmt.Errorf("reading the listing: %w", err)
	}
	format, kind, _ := strings.Cut(strings.TrimSpace(header), " ")
	isDir := kind == "dir"
	var entries []remoteEntry
	switch format {
	case "missing":
		return nil, false, nil
	case "gnu":
		entries, err = parseGNUFind(br)
	case "stat":
		entries, err = parseStatBatches(br)
	default:
		return nil, false, fmt.Errorf("unexpected listing format %q", strings.TrimSpace(header))
	}
	return entries, isDir, err
}

// parseGNUFind reads "TYPE SIZE MTIME PERM PATH\0LINK\0" records.
func parseGNUFind(br *bufio.Reader) ([]remoteEntry, error) {
	entries := []remoteEntry{}
	for {
		rec, err := readField(br)
		if errors.Is(err, io.EOF) && rec == "" {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		link, err := readField(br)
		if err != nil {
			return nil, err
		}
		fields := strings.SplitN(rec, " ", 5)
		if len(fields) != 5 {
			return nil, fmt.Errorf("malformed listing record %q", rec)
		}
		e := remoteEntry{Path: fields[4]}
		if e.Size, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
			return nil, fmt.Errorf("malformed size in %q: %w", rec, err)
		}
		if e.ModTime, err = parseEpoch(fields[2]); err != nil {
			return nil, fmt.Errorf("malformed time in %q: %w", rec, err)
		}
		perm, err := strconv.ParseUint(fields[3], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("malformed mode in %q: %w", rec, err)
		}
		typ, ok := findTypes[fields[0]]
		if !ok {
			typ = fs.ModeIrregular
		}
		e.Mode = typ | unixPerm(uint32(perm))
		if typ == fs.ModeSymlink {
			e.Link = link
		}
		entries = append(entries, e)
	}
}

// findTypes maps GNU find's %y letters to file types.
var findTypes = map[string]fs.FileMode{
	"f": 0, "d": fs.ModeDir, "l": fs.ModeSymlink, "p": fs.ModeNamedPipe, "s": fs.ModeSocket,
	"c": fs.ModeDevice | fs.ModeCharDevice, "b": fs.ModeDevice,
}

// parseStatBatches reads statBatchScript's batches.
func parseStatBatches(br *bufio.Reader) ([]remoteEntry, error) {
	entries := []remoteEntry{}
	for {
		line, err := br.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return entries, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the listing: %w", err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("malformed listing batch header %q", line)
		}
		batch := make([]remoteEntry, n)
		for i := range batch {
			if batch[i].Path, err = readField(br); err != nil {
				return nil, err
			}
		}
		for i := range batch {
			line, err := br.ReadString('\n')
			if err != nil {
				return nil, fmt.Errorf("the listing was cut short (did the volume change while it was listed?): %w", err)
			}
			var raw uint64
			var mtime string
			if _, err := fmt.Sscanf(line, "%x %d %s", &raw, &batch[i].Size, &mtime); err != nil {
				return nil, fmt.Errorf("malformed stat line %q: %w", strings.TrimSpace(line), err)
			}
			if batch[i].ModTime, err = parseEpoch(mtime); err != nil {
				return nil, fmt.Errorf("malformed time in %q: %w", strings.TrimSpace(line), err)
			}
			batch[i].Mode = rawUnixMode(uint32(raw))
		}
		for i := range batch {
			if batch[i].Mode.Type() == fs.ModeSymlink {
				if batch[i].Link, err = readField(br); err != nil {
					return nil, err
				}
			}
		}
		entries = append(entries, batch...)
	}
}

// readField reads up to the next NUL.
func readField(br *bufio.Reader) (string, error) {
	s, err := br.ReadString(0)
	if err != nil {
		if errors.Is(err, io.EOF) && s == "" {
			return "", io.EOF
		}
		return "", fmt.Errorf("the listing was cut short: %w", io.ErrUnexpectedEOF)
	}
	return s[:len(s)-1], nil
}

// parseEpoch parses seconds since the epoch, with an optional fraction ("1700000000.25").
func parseEpoch(s string) (time.Time, error) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time: %w", s, err)
	}
	var nsec int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if nsec, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("%q is not a time: %w", s, err)
		}
	}
	return time.Unix(sec, nsec), nil
}

// Unix mode bits.
const (
	unixTypeMask = 0o170000
	unixSetuid   = 0o4000
	unixSetgid   = 0o2000
	unixSticky   = 0o1000
)

// rawUnixMode turns a st_mode (type and permission bits) into an fs.FileMode.
func rawUnixMode(raw uint32) fs.FileMode {
	var typ fs.FileMode
	switch raw & unixTypeMask {
	case 0o100000:
	case 0o040000:
		typ = fs.ModeDir
	case 0o120000:
		typ = fs.ModeSymlink
	case 0o010000:
		typ = fs.ModeNamedPipe
	case 0o140000:
		typ = fs.ModeSocket
	case 0o020000:
		typ = fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		typ = fs.ModeDevice
	default:
		typ = fs.ModeIrregular
	}
	return typ | unixPerm(raw)
}

// unixPerm turns permission bits (with setuid, setgid and sticky) into an fs.FileMode.
func unixPerm(perm uint32) fs.FileMode {
	m := fs.FileMode(perm & 0o777)
	if perm&unixSetuid != 0 {
		m |= fs.ModeSetuid
	}
	if perm&unixSetgid != 0 {
		m |= fs.ModeSetgid
	}
	if perm&unixSticky != 0 {
		m |= fs.ModeSticky
	}
	return m
}

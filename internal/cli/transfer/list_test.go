package transfer

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListShowsEachEntryWithSizeModeTimeAndLinkTarget(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		volume := t.TempDir()
		sampleTree().write(t, volume)
		makeExecutable(t, filepath.Join(volume, "run.sh"))
		if err := os.Chtimes(filepath.Join(volume, "data"), past, past); err != nil {
			t.Fatal(err)
		}

		entries, err := List(context.Background(), sh.exec(), volume, "/")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
		}
		want := []string{"-dash", "..dots", ".hidden", "README.md", "data", "empty-dir", "héllo wörld.txt", "new\nline", "run.sh", "with space.txt"}
		if strings.Join(names, "|") != strings.Join(want, "|") {
			t.Fatalf("names = %q, want %q", names, want)
		}
		byName := map[string]Entry{}
		for _, e := range entries {
			byName[e.Name] = e
		}
		if e := byName["run.sh"]; e.Size != 19 || e.Mode != 0o755 || !e.ModTime.Equal(past) || e.IsDir() {
			t.Errorf("run.sh = %+v", e)
		}
		if e := byName["data"]; !e.IsDir() || e.Mode.Perm() != 0o755 || !e.ModTime.Equal(past) {
			t.Errorf("data = %+v", e)
		}

		entries, err = List(context.Background(), sh.exec(), volume, "data")
		if err != nil {
			t.Fatalf("List data: %v", err)
		}
		byName = map[string]Entry{}
		for _, e := range entries {
			byName[e.Name] = e
		}
		if len(entries) != 5 {
			t.Errorf("data holds %d entries, want 5: %+v", len(entries), entries)
		}
		if e := byName["big.bin"]; e.Size != 3<<20+17 || !e.Mode.IsRegular() {
			t.Errorf("big.bin = %+v", e)
		}
		if e := byName["link-to-big"]; !e.IsSymlink() || e.LinkTarget != "big.bin" {
			t.Errorf("link-to-big = %+v", e)
		}
		if e := byName["empty"]; e.Size != 0 {
			t.Errorf("empty = %+v", e)
		}

		// A file lists alone, by its own name.
		entries, err = List(context.Background(), sh.exec(), volume, "data/nested/deep/x.py")
		if err != nil || len(entries) != 1 || entries[0].Name != "x.py" || entries[0].Size != 11 {
			t.Errorf("List of a file = %+v, %v", entries, err)
		}
		// An empty directory is an empty list, not an error.
		if entries, err := List(context.Background(), sh.exec(), volume, "empty-dir"); err != nil || len(entries) != 0 {
			t.Errorf("List of an empty directory = %+v, %v", entries, err)
		}
		if _, err := List(context.Background(), sh.exec(), volume, "missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("List of a missing path = %v, want fs.ErrNotExist", err)
		}
		if _, err := List(context.Background(), sh.exec(), volume, "../.."); err == nil {
			t.Errorf("List of a path out of the volume succeeded")
		}
	})
}

func TestWriteTableLooksLikeLsL(t *testing.T) {
	when := time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	entries := []Entry{
		{Name: "data", Mode: fs.ModeDir | 0o755, Size: 4096, ModTime: when},
		{Name: "model.pt", Mode: 0o644, Size: 1536 << 20, ModTime: when},
		{Name: "latest", Mode: fs.ModeSymlink | 0o777, Size: 8, ModTime: when, LinkTarget: "model.pt"},
		{Name: "run.sh", Mode: fs.ModeSetuid | 0o755, Size: 20, ModTime: when},
		{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777, Size: 4096, ModTime: when},
	}
	cases := []struct {
		name string
		opts TableOptions
		want string
	}{
		{"bytes", TableOptions{Location: time.UTC}, `MODE              SIZE  MODIFIED          NAME
drwxr-xr-x        4096  2024-03-01 12:30  data/
-rw-r--r--  1610612736  2024-03-01 12:30  model.pt
lrwxrwxrwx           8  2024-03-01 12:30  latest -> model.pt
-rwsr-xr-x          20  2024-03-01 12:30  run.sh
drwxrwxrwt        4096  2024-03-01 12:30  tmp/
`},
		{"human, no headers", TableOptions{Location: time.UTC, HumanSizes: true, NoHeaders: true}, `drwxr-xr-x  4.0K  2024-03-01 12:30  data/
-rw-r--r--  1.5G  2024-03-01 12:30  model.pt
lrwxrwxrwx     8  2024-03-01 12:30  latest -> model.pt
-rwsr-xr-x    20  2024-03-01 12:30  run.sh
drwxrwxrwt  4.0K  2024-03-01 12:30  tmp/
`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteTable(&b, entries, tc.opts); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestModeString(t *testing.T) {
	cases := map[fs.FileMode]string{
		0o644:                              "-rw-r--r--",
		fs.ModeDir | 0o700:                 "drwx------",
		fs.ModeSymlink | 0o777:             "lrwxrwxrwx",
		fs.ModeSetuid | 0o644:              "-rwSr--r--",
		fs.ModeSetgid | 0o755:              "-rwxr-sr-x",
		fs.ModeDir | fs.ModeSticky | 0o776: "drwxrwxrwT",
		fs.ModeNamedPipe | 0o600:           "prw-------",
		fs.ModeSocket | 0o755:              "srwxr-xr-x",
		fs.ModeDevice | fs.ModeCharDevice:  "c---------",
		fs.ModeDevice | 0o660:              "brw-rw----",
	}
	for mode, want := range cases {
		if got := modeString(mode); got != want {
			t.Errorf("modeString(%v) = %q, want %q", mode, got, want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	cases := map[int64]string{0: "0", 1023: "1023", 1024: "1.0K", 1536: "1.5K", 10 << 10: "10K", 20<<20 + 1: "20M", 3 << 40: "3.0T"}
	for n, want := range cases {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseFindReadsBothFormats(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []remoteEntry
		isDir   bool
		wantErr string
	}{
		{name: "missing", in: "missing\n", want: nil},
		{name: "empty directory", in: "gnu dir\n", want: []remoteEntry{}, isDir: true},
		{name: "gnu records", isDir: true,
			in: "gnu dir\nf 5 1700000000.2500000000 644 a b\x00\x00l 3 1700000001.0000000000 777 sub/l\x00x y\x00d 4096 1700000002.0000000000 1777 t\x00\x00",
			want: []remoteEntry{
				{Path: "a b", Size: 5, Mode: 0o644, ModTime: time.Unix(1700000000, 250000000)},
				{Path: "sub/l", Size: 3, Mode: fs.ModeSymlink | 0o777, ModTime: time.Unix(1700000001, 0), Link: "x y"},
				{Path: "t", Size: 4096, Mode: fs.ModeDir | fs.ModeSticky | 0o777, ModTime: time.Unix(1700000002, 0)},
			}},
		{name: "stat batches", isDir: true,
			in: "stat dir\n2\nnew\nline\x00l\x0081a4 7 1700000000\na1ff 1 1700000001\ntarget\x00" + "1\nd\x0041ed 4096 1700000002\n",
			want: []remoteEntry{
				{Path: "new\nline", Size: 7, Mode: 0o644, ModTime: time.Unix(1700000000, 0)},
				{Path: "l", Size: 1, Mode: fs.ModeSymlink | 0o777, ModTime: time.Unix(1700000001, 0), Link: "target"},
				{Path: "d", Size: 4096, Mode: fs.ModeDir | 0o755, ModTime: time.Unix(1700000002, 0)},
			}},
		{name: "a file", in: "stat file\n1\n\x0089ed 0 1700000000\n", want: []remoteEntry{{Path: "", Mode: fs.ModeSetuid | 0o755, ModTime: time.Unix(1700000000, 0)}}},
		{name: "stat batch cut short", in: "stat dir\n2\na\x00b\x0081a4 1 1\n", wantErr: "cut short"},
		{name: "gnu record cut short", in: "gnu dir\nf 5 1 644 a", wantErr: "cut short"},
		{name: "unknown format", in: "what\n", wantErr: "unexpected listing format"},
		{name: "garbage size", in: "gnu dir\nf x 1 644 a\x00\x00", wantErr: "malformed size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, isDir, err := parseFind(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if isDir != tc.isDir {
				t.Errorf("isDir = %v, want %v", isDir, tc.isDir)
			}
			if (got == nil) != (tc.want == nil) || len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Path != w.Path || g.Size != w.Size || g.Mode != w.Mode || !g.ModTime.Equal(w.ModTime) || g.Link != w.Link {
					t.Errorf("entry %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestRemotePathStaysInsideTheVolume(t *testing.T) {
	cases := []struct {
		root, p, want string
		fail          bool
	}{
		{"/data", "", "/data", false},
		{"/data", "/", "/data", false},
		{"/data", "a/b", "/data/a/b", false},
		{"/data", "/a/b/", "/data/a/b", false},
		{"/data/", "./a//b/../c", "/data/a/c", false},
		{"/data", "a/../..", "", true},
		{"/data", "../etc", "", true},
		{"data", "a", "", true},
	}
	for _, tc := range cases {
		got, err := RemotePath(tc.root, tc.p)
		if (err != nil) != tc.fail || got != tc.want {
			t.Errorf("RemotePath(%q, %q) = %q, %v; want %q, fail %v", tc.root, tc.p, got, err, tc.want, tc.fail)
		}
	}
}

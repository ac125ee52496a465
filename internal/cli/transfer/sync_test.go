package transfer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// streamEntries are the data entries of an upload stream (files, dirs, symlinks, by path
// relative to the remote directory; directories end in '/'), and its delete list.
func streamEntries(t *testing.T, stream []byte) (entries, deletes []string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(stream))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, deletes
		}
		if err != nil {
			t.Fatalf("reading the recorded stream: %v", err)
		}
		if rest, ok := strings.CutPrefix(h.Name, stageData+"/"); ok {
			entries = append(entries, rest)
		}
		if h.Name == stageDelete {
			b, _ := io.ReadAll(tr)
			deletes = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		}
	}
}

// syncRun is one Sync through a recorder, with what its stream carried.
func syncRun(t *testing.T, sh standIn, local, remote string, opts Options) (Stats, []string, []string) {
	t.Helper()
	rec := &recorder{inner: sh.exec()}
	stats, err := Sync(context.Background(), rec.exec, local, remote, opts)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if len(rec.streams) > 1 {
		t.Fatalf("Sync sent %d streams, want at most one", len(rec.streams))
	}
	if len(rec.streams) == 0 {
		return stats, nil, nil
	}
	entries, deletes := streamEntries(t, rec.streams[0])
	return stats, entries, deletes
}

func TestSyncSendsEverythingFirstThenOnlyWhatChanged(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		remote := volume + "/code"
		sampleTree().write(t, local)

		stats, sent, _ := syncRun(t, sh, local, remote, Options{})
		if stats.Files != 12 || stats.Symlinks != 2 || len(sent) != 23 {
			t.Fatalf("first sync sent %d files, %d symlinks, %d entries %v; want 12, 2, 23", stats.Files, stats.Symlinks, len(sent), sent)
		}
		sameDigest(t, digest(t, remote), digest(t, local))

		// Nothing changed: nothing is sent, no stream at all.
		stats, sent, _ = syncRun(t, sh, local, remote, Options{})
		if len(sent) != 0 || stats.Files != 0 || stats.Unchanged != 14 {
			t.Fatalf("second sync sent %v (stats %+v), want nothing and 14 unchanged", sent, stats)
		}

		// One file edited (same size, a later time), one grown, one new in a new directory,
		// one symlink retargeted.
		later := past.Add(time.Hour)
		writeTestFile(t, filepath.Join(local, "README.md"), "# PROJECT\n", later)
		writeTestFile(t, filepath.Join(local, "data/empty"), "not any more", past)
		writeTestFile(t, filepath.Join(local, "new/dir/file.txt"), "new", past)
		if err := os.Remove(filepath.Join(local, "data/link-to-big")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("empty", filepath.Join(local, "data/link-to-big")); err != nil {
			t.Fatal(err)
		}
		stats, sent, _ = syncRun(t, sh, local, remote, Options{})
		want := []string{"README.md", "data/empty", "data/link-to-big", "new/", "new/dir/", "new/dir/file.txt"}
		if !slices.Equal(sent, want) {
			t.Errorf("third sync sent %v, want %v", sent, want)
		}
		if stats.Files != 3 || stats.Symlinks != 1 || stats.Dirs != 2 || !slices.Equal(stats.Sent, []string{"README.md", "data/empty", "data/link-to-big", "new", "new/dir", "new/dir/file.txt"}) {
			t.Errorf("third sync stats = %+v", stats)
		}
		sameDigest(t, digest(t, remote), digest(t, local))
		if got := stages(t, remote); len(got) != 0 {
			t.Errorf("staging directories left: %v", got)
		}
	})
}

func TestSyncHonoursGitignoreAndDockerignore(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, remote := t.TempDir(), t.TempDir()
		tree{
			".gitignore":             "*.log\n!keep.log\n/build/\nnode_modules/\n__pycache__\n",
			".dockerignore":          "secrets\n**/*.tmp\n",
			"src/.gitignore":         "generated.go\n!/important.log\n",
			"a.log":                  "ignored",
			"keep.log":               "kept by negation",
			"build/out.bin":          "ignored dir",
			"src/build/x.go":         "not the anchored /build/",
			"src/main.go":            "package main",
			"src/generated.go":       "ignored by the nested .gitignore",
			"src/important.log":      "re-included by the nested .gitignore",
			"src/pkg/node_modules/m": "ignored dir at depth",
			"src/__pycache__/c.pyc":  "ignored",
			"secrets/key":            "docker-excluded",
			"deep/x/y.tmp":           "docker-excluded at depth",
			"deep/x/y.txt":           "kept",
		}.write(t, local)
		stats, sent, _ := syncRun(t, sh, local, remote, Options{})
		wantSent := []string{".dockerignore", ".gitignore", "deep/", "deep/x/", "deep/x/y.txt", "keep.log", "src/",
			"src/.gitignore", "src/build/", "src/build/x.go", "src/important.log", "src/main.go", "src/pkg/"}
		if !slices.Equal(sent, wantSent) {
			t.Errorf("sent %v\nwant %v", sent, wantSent)
		}
		if stats.Ignored != 7 {
			t.Errorf("ignored %d paths, want 7", stats.Ignored)
		}

		// Remote files the ignore rules cover stay, with Delete too; the rest gone locally go.
		tree{"a.log": "remote log", "build/cache": "remote build", "src/pkg/node_modules/dep": "remote dep",
			"gone.txt": "deleted locally", "olddir/f": "deleted locally", "src/old.go": "deleted locally",
			"mixed/keep.log.log": "protected", "mixed/x.txt": "not protected"}.write(t, remote)
		stats, sent, deletes := syncRun(t, sh, local, remote, Options{Delete: true})
		if len(sent) != 0 {
			t.Errorf("sent %v, want nothing", sent)
		}
		wantDeleted := []string{"gone.txt", "mixed/x.txt", "olddir", "src/old.go"}
		if !slices.Equal(deletes, wantDeleted) || !slices.Equal(stats.Removed, wantDeleted) || stats.Deleted != 4 {
			t.Errorf("deleted %v (stats %v, %d), want %v", deletes, stats.Removed, stats.Deleted, wantDeleted)
		}
		for _, p := range []string{"a.log", "build/cache", "src/pkg/node_modules/dep", "mixed/keep.log.log"} {
			if _, err := os.Stat(filepath.Join(remote, p)); err != nil {
				t.Errorf("protected %s: %v", p, err)
			}
		}
		for _, p := range wantDeleted {
			if _, err := os.Lstat(filepath.Join(remote, p)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s should be gone: %v", p, err)
			}
		}
	})
}

func TestSyncWithoutIgnoreFilesSendsEverything(t *testing.T) {
	sh := shells(t)[0]
	local, remote := t.TempDir(), t.TempDir()
	tree{".gitignore": "*.log\n", "a.log": "x", "b.txt": "y"}.write(t, local)
	stats, _, _ := syncRun(t, sh, local, remote, Options{NoIgnoreFiles: true})
	if stats.Files != 3 || stats.Ignored != 0 {
		t.Fatalf("stats = %+v, want all 3 files sent", stats)
	}
	stats, _, _ = syncRun(t, sh, t.TempDir(), t.TempDir(), Options{Exclude: []string{"*.txt"}})
	if stats.Files != 0 {
		t.Fatalf("an empty directory sent %d files", stats.Files)
	}
	local2 := t.TempDir()
	tree{"a.txt": "x", "b.md": "y"}.write(t, local2)
	stats, sent, _ := syncRun(t, sh, local2, t.TempDir(), Options{Exclude: []string{"*.txt"}})
	if !slices.Equal(sent, []string{"b.md"}) || stats.Ignored != 1 {
		t.Fatalf("sent %v (ignored %d), want only b.md with Exclude *.txt", sent, stats.Ignored)
	}
}

func TestSyncWithChecksumSendsOnlyTrueChanges(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, remote := t.TempDir(), t.TempDir()
		tree{"same.txt": "same content", "edited.txt": "aaaa", "big.bin": randomContent(1<<20, 10)}.write(t, local)
		syncRun(t, sh, local, remote, Options{})

		// Touched only, and edited keeping the size: both have a new time.
		later := past.Add(time.Minute)
		for _, p := range []string{"same.txt", "big.bin"} {
			if err := os.Chtimes(filepath.Join(local, p), later, later); err != nil {
				t.Fatal(err)
			}
		}
		writeTestFile(t, filepath.Join(local, "edited.txt"), "bbbb", later)

		stats, sent, _ := syncRun(t, sh, local, remote, Options{Checksum: true, DryRun: true})
		if !slices.Equal(stats.Sent, []string{"edited.txt"}) || len(sent) != 0 || stats.Unchanged != 2 {
			t.Errorf("checksum dry run: would send %v (sent %v, unchanged %d), want only edited.txt and nothing sent", stats.Sent, sent, stats.Unchanged)
		}
		stats, _, _ = syncRun(t, sh, local, remote, Options{DryRun: true})
		if len(stats.Sent) != 3 {
			t.Errorf("without checksums every touched file is sent, got %v", stats.Sent)
		}
		_, sent, _ = syncRun(t, sh, local, remote, Options{Checksum: true})
		if !slices.Equal(sent, []string{"edited.txt"}) {
			t.Errorf("checksum sync sent %v, want edited.txt", sent)
		}
		if b, _ := os.ReadFile(filepath.Join(remote, "edited.txt")); string(b) != "bbbb" {
			t.Errorf("edited.txt = %q on the remote side", b)
		}
	})
}

func TestSyncReplacesADirectoryWithAFileOnlyWithDelete(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, remote := t.TempDir(), t.TempDir()
		tree{"x": "now a file", "y/inside": "now a directory"}.write(t, local)
		tree{"x/old": "was a directory", "y": "was a file"}.write(t, remote)
		_, err := Sync(context.Background(), sh.exec(), local, remote, Options{})
		if err == nil || !strings.Contains(err.Error(), "with delete") {
			t.Fatalf("Sync = %v, want a refusal that suggests delete", err)
		}
		_, _, deletes := syncRun(t, sh, local, remote, Options{Delete: true})
		if !slices.Equal(deletes, []string{"x", "y"}) {
			t.Errorf("deleted %v, want x and y", deletes)
		}
		sameDigest(t, digest(t, remote), digest(t, local))
	})
}

func TestSyncDryRunChangesNothing(t *testing.T) {
	sh := shells(t)[0]
	local, remote := t.TempDir(), t.TempDir()
	tree{"a": "1", "d/b": "2"}.write(t, local)
	tree{"stale": "3"}.write(t, remote)
	stats, sent, _ := syncRun(t, sh, local, remote, Options{DryRun: true, Delete: true})
	if len(sent) != 0 || stats.Files != 2 || stats.Dirs != 1 || !slices.Equal(stats.Removed, []string{"stale"}) {
		t.Fatalf("dry run: sent %v, stats %+v", sent, stats)
	}
	if got := digest(t, remote); len(got) != 1 {
		t.Fatalf("a dry run changed the remote side: %v", got)
	}
}

func TestSyncIntoAFileIsRefused(t *testing.T) {
	sh := shells(t)[0]
	remote := t.TempDir()
	writeTestFile(t, filepath.Join(remote, "f"), "x", past)
	if _, err := Sync(context.Background(), sh.exec(), t.TempDir(), remote+"/f", Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Sync = %v, want not a directory", err)
	}
}

func TestSyncCutShortIsCompletedByARerun(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, remote := t.TempDir(), t.TempDir()
		tree{"a.bin": randomContent(1<<20, 11), "b.bin": randomContent(1<<20, 12), "c.txt": "c"}.write(t, local)
		_, err := Sync(context.Background(), sh.killAfter(1<<20+(1<<18), false), local, remote, Options{})
		if err == nil {
			t.Fatal("a sync through a dying helper succeeded")
		}
		visible := without(digest(t, remote), func(p string) bool { return strings.HasPrefix(p, stagePrefix) })
		if len(visible) != 0 {
			t.Fatalf("a cut sync left %v in place", visible)
		}
		stats, sent, _ := syncRun(t, sh, local, remote, Options{})
		if len(sent) != 3 || stats.Files != 3 {
			t.Fatalf("rerun sent %v", sent)
		}
		// The dead helper's staging directory is neither compared nor deleted.
		sameDigest(t, without(digest(t, remote), func(p string) bool { return strings.HasPrefix(p, stagePrefix) }), digest(t, local))
		if _, sent, deletes := syncRun(t, sh, local, remote, Options{Delete: true}); len(sent)+len(deletes) != 0 {
			t.Fatalf("a sync after the rerun sent %v and deleted %v", sent, deletes)
		}
	})
}

package transfer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUploadThenDownloadMovesEveryByteIntact(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume, back := t.TempDir(), t.TempDir(), t.TempDir()
		src := filepath.Join(local, "project")
		sampleTree().write(t, src)
		makeExecutable(t, filepath.Join(src, "run.sh"))
		want := digest(t, src)

		var progress bytes.Buffer
		stats, err := Upload(context.Background(), sh.exec(), src, volume+"/in", Options{Progress: &progress})
		if err != nil {
			t.Fatalf("Upload: %v", err)
		}
		sameDigest(t, subtree(digest(t, volume+"/in"), "project"), want)
		if got := stages(t, volume+"/in"); len(got) != 0 {
			t.Errorf("staging directories left behind: %v", got)
		}
		if stats.Files != 12 || stats.Symlinks != 2 || stats.Dirs != 10 {
			t.Errorf("Upload stats = %d files, %d symlinks, %d dirs; want 12, 2, 10", stats.Files, stats.Symlinks, stats.Dirs)
		}
		if !strings.Contains(progress.String(), "100%") || !strings.HasSuffix(progress.String(), "\n") {
			t.Errorf("progress = %q, want a bar that reaches 100%% and ends the line", progress.String())
		}

		progress.Reset()
		stats, err = Download(context.Background(), sh.exec(), volume+"/in/project", back, Options{Progress: &progress})
		if err != nil {
			t.Fatalf("Download: %v", err)
		}
		sameDigest(t, subtree(digest(t, back), "project"), want)
		if stats.Files != 12 || stats.Symlinks != 2 || stats.Skipped != 0 {
			t.Errorf("Download stats = %+v, want 12 files, 2 symlinks, none skipped", stats)
		}
		if !strings.Contains(progress.String(), "100%") {
			t.Errorf("download progress = %q, want it to reach 100%%", progress.String())
		}
		if parts := partFiles(t, back); len(parts) != 0 {
			t.Errorf(".part files left: %v", parts)
		}
	})
}

func TestUploadAndDownloadOneFileUnderAnotherName(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		writeTestFile(t, filepath.Join(local, "weights.pt"), randomContent(100_000, 2), past)
		if _, err := Upload(context.Background(), sh.exec(), filepath.Join(local, "weights.pt"), volume+"/models", Options{Name: "v1.pt"}); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		want := digest(t, local)["weights.pt"]
		if got := digest(t, volume)["models/v1.pt"]; got != want {
			t.Fatalf("uploaded file = %s, want %s", got, want)
		}
		back := t.TempDir()
		if _, err := Download(context.Background(), sh.exec(), volume+"/models/v1.pt", back, Options{Name: "again.pt"}); err != nil {
			t.Fatalf("Download: %v", err)
		}
		if got := digest(t, back)["again.pt"]; got != want {
			t.Fatalf("downloaded file = %s, want %s", got, want)
		}
	})
}

func TestUploadKeepsSymlinksAsTheyAreEvenPointingOutside(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		tree{"p/abs": "-> /etc/hostname", "p/up": "-> ../../elsewhere", "p/dangling": "-> nothing"}.write(t, local)
		if _, err := Upload(context.Background(), sh.exec(), filepath.Join(local, "p"), volume, Options{}); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		sameDigest(t, digest(t, volume), digest(t, local))
	})
}

func TestUploadMergesIntoWhatIsThere(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		tree{"p/a.txt": "new a", "p/sub/b.txt": "b"}.write(t, local)
		tree{"p/a.txt": "old a", "p/keep.txt": "stays", "p/sub/c.txt": "stays too"}.write(t, volume)
		if _, err := Upload(context.Background(), sh.exec(), filepath.Join(local, "p"), volume, Options{}); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		got := digest(t, volume)
		for p, content := range map[string]string{"p/a.txt": "new a", "p/sub/b.txt": "b", "p/keep.txt": "stays", "p/sub/c.txt": "stays too"} {
			b, err := os.ReadFile(filepath.Join(volume, p))
			if err != nil || string(b) != content {
				t.Errorf("%s = %q, %v; want %q", p, b, err, content)
			}
		}
		if len(got) != 6 {
			t.Errorf("volume holds %d paths, want 6: %v", len(got), got)
		}
	})
}

func TestUploadRefusesToReplaceADirectoryWithAFile(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		tree{"x": "a file"}.write(t, local)
		tree{"x/inside": "data"}.write(t, volume)
		_, err := Upload(context.Background(), sh.exec(), filepath.Join(local, "x"), volume, Options{})
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("Upload = %v, want a refusal naming the directory in the way", err)
		}
		if b, _ := os.ReadFile(filepath.Join(volume, "x/inside")); string(b) != "data" {
			t.Errorf("the directory in the way was touched")
		}
	})
}

func TestUploadThatCannotMakeItsDirectoryFailsWithTheRemoteMessage(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		tree{"f": "x"}.write(t, local)
		tree{"blocker": "a file where a directory should be"}.write(t, volume)
		_, err := Upload(context.Background(), sh.exec(), filepath.Join(local, "f"), volume+"/blocker/sub", Options{})
		var re *RemoteError
		if !errors.As(err, &re) || !strings.Contains(strings.ToLower(re.Stderr), "not a directory") {
			t.Fatalf("Upload = %v, want a RemoteError with mkdir's message", err)
		}
	})
}

func TestUploadCutShortByTheUserChangesNothingAndCanBeRunAgain(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		src := filepath.Join(local, "p")
		tree{"p/one.bin": randomContent(2<<20, 3), "p/two.bin": randomContent(2<<20, 4), "p/three.txt": "3"}.write(t, src[:len(src)-2])

		for _, tc := range []struct {
			name string
			exec func(cancel context.CancelFunc) Exec
		}{
			// The stream drops: the remote side sees its input end and cleans up itself.
			{"stream dropped", func(cancel context.CancelFunc) Exec { return cancelAfter(sh.droppingExec(), 1<<20, false, cancel) }},
			// The helper's command is killed outright: its staging directory stays, hidden.
			{"helper killed", func(cancel context.CancelFunc) Exec { return cancelAfter(sh.exec(), 1<<20, false, cancel) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dest := filepath.Join(volume, tc.name)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				_, err := Upload(ctx, tc.exec(cancel), src, dest, Options{})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Upload = %v, want context.Canceled", err)
				}
				visible := without(digest(t, dest), func(p string) bool { return strings.HasPrefix(p, stagePrefix) })
				if len(visible) != 0 {
					t.Fatalf("an interrupted upload left %v in place", visible)
				}
				if tc.name == "stream dropped" {
					waitNoStages(t, dest)
				}
				if _, err := Upload(context.Background(), sh.exec(), src, dest, Options{}); err != nil {
					t.Fatalf("rerun: %v", err)
				}
				sameDigest(t, subtree(digest(t, dest), "p"), digest(t, src))
			})
		}
	})
}

// waitNoStages waits for the remote side, which finishes on its own after a dropped stream,
// to remove its staging directory.
func waitNoStages(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(stages(t, dir)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the remote side did not remove its staging directory: %v", stages(t, dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUploadWhoseHelperDiesHalfwayLeavesNoHalfFileAndIsSweptLater(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		local, volume := t.TempDir(), t.TempDir()
		src := filepath.Join(local, "p")
		tree{"one.bin": randomContent(2<<20, 5), "two.bin": randomContent(1<<20, 6)}.write(t, src)
		_, err := Upload(context.Background(), sh.killAfter(1<<20+512, false), src, volume, Options{})
		if err == nil {
			t.Fatal("Upload through a helper that died succeeded")
		}
		visible := without(digest(t, volume), func(p string) bool { return strings.HasPrefix(p, stagePrefix) })
		if len(visible) != 0 {
			t.Fatalf("a dead helper left %v in place", visible)
		}
		left := stages(t, volume)
		if len(left) != 1 {
			t.Fatalf("staging directories = %v, want the dead helper's one", left)
		}
		// A rerun completes; the stale staging directory goes once it is a day old.
		old := time.Now().Add(-25 * time.Hour)
		if err := os.Chtimes(filepath.Join(volume, left[0]), old, old); err != nil {
			t.Fatal(err)
		}
		if _, err := Upload(context.Background(), sh.exec(), src, volume, Options{}); err != nil {
			t.Fatalf("rerun: %v", err)
		}
		sameDigest(t, digest(t, volume), without(digest(t, local), func(string) bool { return false }))
	})
}

func TestDownloadCutShortLeavesNoHalfFileAndCanBeRunAgain(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		volume := t.TempDir()
		tree{"p/a.bin": randomContent(1<<20, 7), "p/b.bin": randomContent(2<<20, 8), "p/c.bin": randomContent(1<<20, 9)}.write(t, volume)
		want := digest(t, filepath.Join(volume, "p"))
		for _, tc := range []struct {
			name string
			exec func(cancel context.CancelFunc) Exec
		}{
			{"cancelled", func(cancel context.CancelFunc) Exec { return cancelAfter(sh.exec(), 1<<20+(1<<19), true, cancel) }},
			{"helper killed", func(context.CancelFunc) Exec { return sh.killAfter(1<<20+(1<<19), true) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				local := t.TempDir()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if _, err := Download(ctx, tc.exec(cancel), volume+"/p", local, Options{}); err == nil {
					t.Fatal("an interrupted download succeeded")
				}
				if parts := partFiles(t, local); len(parts) != 0 {
					t.Fatalf(".part files left: %v", parts)
				}
				// What is there is whole: a.bin (before the cut) and nothing half.
				got := digest(t, filepath.Join(local, "p"))
				for p, d := range got {
					if d != "dir" && d != want[p] {
						t.Errorf("%s is there but not whole: %s, want %s", p, d, want[p])
					}
				}
				if len(got) >= len(want) {
					t.Errorf("the cut came too late to test anything: %v", got)
				}
				if _, err := Download(context.Background(), sh.exec(), volume+"/p", local, Options{}); err != nil {
					t.Fatalf("rerun: %v", err)
				}
				sameDigest(t, digest(t, filepath.Join(local, "p")), want)
			})
		}
	})
}

func TestDownloadOfAMissingPathSaysSo(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		volume := t.TempDir()
		_, err := Download(context.Background(), sh.exec(), volume+"/nope", t.TempDir(), Options{})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Download = %v, want fs.ErrNotExist", err)
		}
	})
}

func TestDownloadFollowsASymlinkedDirectoryNamedByTheUser(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		volume, local := t.TempDir(), t.TempDir()
		tree{"real/f.txt": "f", "alias": "-> real"}.write(t, volume)
		if _, err := Download(context.Background(), sh.exec(), volume+"/alias", local, Options{}); err != nil {
			t.Fatalf("Download: %v", err)
		}
		if b, err := os.ReadFile(filepath.Join(local, "alias", "f.txt")); err != nil || string(b) != "f" {
			t.Fatalf("alias/f.txt = %q, %v", b, err)
		}
	})
}

func TestDownloadRecreatesHardLinks(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh standIn) {
		volume, local := t.TempDir(), t.TempDir()
		tree{"p/a": "shared content"}.write(t, volume)
		if err := os.Link(filepath.Join(volume, "p/a"), filepath.Join(volume, "p/b")); err != nil {
			t.Fatal(err)
		}
		stats, err := Download(context.Background(), sh.exec(), volume+"/p", local, Options{})
		if err != nil {
			t.Fatalf("Download: %v", err)
		}
		sameDigest(t, digest(t, filepath.Join(local, "p")), digest(t, filepath.Join(volume, "p")))
		a, _ := os.Stat(filepath.Join(local, "p/a"))
		b, _ := os.Stat(filepath.Join(local, "p/b"))
		if !os.SameFile(a, b) || stats.Files != 2 {
			t.Errorf("p/a and p/b are not one file again (stats %+v)", stats)
		}
	})
}

// hostile is an Exec that answers every command with a crafted tar, as a compromised helper
// could.
func hostile(entries ...tar.Header) Exec {
	return func(_ context.Context, _ []string, _ io.Reader, stdout, _ io.Writer) error {
		tw := tar.NewWriter(stdout)
		for _, h := range entries {
			if h.Typeflag == tar.TypeReg {
				h.Size = int64(len(h.Name))
			}
			if h.Mode == 0 {
				h.Mode = 0o644
			}
			if err := tw.WriteHeader(&h); err != nil {
				return err
			}
			if h.Typeflag == tar.TypeReg {
				if _, err := io.WriteString(tw, h.Name); err != nil {
					return err
				}
			}
		}
		return tw.Close()
	}
}

func TestDownloadRefusesWhatAHostileHelperSends(t *testing.T) {
	file := func(name string) tar.Header { return tar.Header{Name: name, Typeflag: tar.TypeReg} }
	dir := func(name string) tar.Header { return tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755} }
	link := func(name, target string) tar.Header {
		return tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}
	}
	hard := func(name, target string) tar.Header {
		return tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}
	}
	cases := []struct {
		name    string
		entries []tar.Header
		// before prepares the local side (dest is the download directory, outside beside it).
		before func(t *testing.T, dest, outside string)
		// unsafe: the download must stop with ErrUnsafeEntry; otherwise it succeeds with
		// skipped entries.
		unsafe  bool
		skipped int
		// want are paths below dest that must exist afterwards.
		want []string
	}{
		{name: "absolute name", entries: []tar.Header{file("/tmp/evil")}, unsafe: true},
		{name: "dot-dot at the start", entries: []tar.Header{file("../evil")}, unsafe: true},
		{name: "dot-dot inside", entries: []tar.Header{dir("./top/"), file("./top/../../evil")}, unsafe: true},
		{name: "outside the path asked for", entries: []tar.Header{file("./other/evil")}, unsafe: true},
		{name: "absolute symlink skipped, then written below as a real directory",
			entries: []tar.Header{link("./top/etc", "/etc"), file("./top/etc/passwd")},
			skipped: 1, want: []string{"top/etc/passwd"}},
		{name: "symlink out of the tree skipped", entries: []tar.Header{link("./top/up", "../../outside")}, skipped: 1},
		{name: "symlink climbing after a step down skipped",
			entries: []tar.Header{dir("./top/d/"), link("./top/d/s", ".."), link("./top/d/esc", "s/../../..")},
			skipped: 1, want: []string{"top/d/s"}},
		{name: "symlink inside kept", entries: []tar.Header{file("./top/f"), link("./top/l", "f"), dir("./top/d/"), link("./top/d/l", "../f")},
			want: []string{"top/f", "top/l", "top/d/l"}},
		{name: "a symlink the download made is not written through",
			entries: []tar.Header{dir("./top/d/"), link("./top/d/l", ".."), file("./top/d/l/evil")}, unsafe: true},
		{name: "a local symlink is not written through",
			before: func(t *testing.T, dest, outside string) {
				if err := os.MkdirAll(filepath.Join(dest, "top"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(outside, filepath.Join(dest, "top", "sub")); err != nil {
					t.Fatal(err)
				}
			},
			entries: []tar.Header{file("./top/sub/evil")}, unsafe: true},
		{name: "a planted .part symlink is replaced, not followed",
			before: func(t *testing.T, dest, outside string) {
				if err := os.MkdirAll(filepath.Join(dest, "top"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dest, "top", "f.part")); err != nil {
					t.Fatal(err)
				}
			},
			entries: []tar.Header{file("./top/f")}, want: []string{"top/f"}},
		{name: "hard link out of the tree", entries: []tar.Header{hard("./top/h", "/etc/passwd")}, unsafe: true},
		{name: "hard link to a file the download did not write", entries: []tar.Header{hard("./top/h", "./top/later")}, unsafe: true},
		{name: "hard link to a file of the download kept", entries: []tar.Header{file("./top/f"), hard("./top/h", "./top/f")}, want: []string{"top/h"}},
		{name: "devices and FIFOs skipped",
			entries: []tar.Header{{Name: "./top/null", Typeflag: tar.TypeChar}, {Name: "./top/fifo", Typeflag: tar.TypeFifo}}, skipped: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dest, outside := filepath.Join(base, "dest"), filepath.Join(base, "outside")
			for _, d := range []string{dest, outside} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			writeTestFile(t, filepath.Join(outside, "victim"), "untouched", past)
			if tc.before != nil {
				tc.before(t, dest, outside)
			}
			var warnings bytes.Buffer
			stats, err := Download(context.Background(), hostile(tc.entries...), "/vol/top", dest, Options{Warnings: &warnings})
			switch {
			case tc.unsafe && !errors.Is(err, ErrUnsafeEntry):
				t.Fatalf("Download = %v, want ErrUnsafeEntry", err)
			case !tc.unsafe && err != nil:
				t.Fatalf("Download = %v, want success", err)
			}
			if stats.Skipped != tc.skipped {
				t.Errorf("skipped %d, want %d (warnings: %s)", stats.Skipped, tc.skipped, warnings.String())
			}
			if tc.skipped > 0 && !strings.Contains(warnings.String(), "skipped") {
				t.Errorf("warnings = %q, want the skipped entries named", warnings.String())
			}
			// Nothing escaped: the only things outside dest are what was there.
			if got := digest(t, base); len(without(got, func(p string) bool { return strings.HasPrefix(p, "dest") })) != 2 {
				t.Errorf("something was written outside the destination: %v", got)
			}
			if b, _ := os.ReadFile(filepath.Join(outside, "victim")); string(b) != "untouched" {
				t.Errorf("the file outside was changed: %q", b)
			}
			for _, p := range tc.want {
				if _, err := os.Lstat(filepath.Join(dest, p)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			if parts := partFiles(t, dest); len(parts) != 0 {
				t.Errorf(".part files left: %v", parts)
			}
		})
	}
}

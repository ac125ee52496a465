package transfer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// checksumScript prints, in $1, the SHA-256 of each NUL-terminated path on stdin, one per
// line in order, "!" for one that cannot be read. The file is read on stdin, so sha256sum
// prints no name and any name is safe.
const checksumScript = `export LC_ALL=C
cd "$1" || exit 1
exec xargs -0 -r sh -c 'for f; do if h=$(sha256sum < "$f" 2>/dev/null); then echo "${h%% *}"; else echo "!"; fi; done' sh
`

// Sync makes remoteDir (a directory in the helper container, see RemotePath; made when
// missing) hold what localDir holds, as rsync -rlt localDir/ remoteDir/ does: it lists both
// sides and sends, in one stream, only the files and symlinks that are new or changed (size
// or modification time to the second; with Options.Checksum a file of the same size whose
// time differs is compared by SHA-256 instead) and the directories missing there. Paths that
// localDir's .gitignore files (git's rules) and .dockerignore (Docker's rules) leave out are
// neither sent nor, with Options.Delete, removed from the remote side; Delete removes the
// rest of what is gone locally. Modes are sent with what is sent but not compared. Like
// Upload, nothing changes on the remote side unless the whole stream arrived, and each file
// is renamed into place whole.
func Sync(ctx context.Context, exec Exec, localDir, remoteDir string, opts Options) (Stats, error) {
	start := time.Now()
	var stats Stats
	root, err := filepath.Abs(localDir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return stats, fmt.Errorf("sync %s: %w", localDir, err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return stats, fmt.Errorf("sync %s: not a directory", localDir)
	}
	dest, err := cleanRemoteDir(remoteDir)
	if err != nil {
		return stats, err
	}
	ig, err := newIgnorer(root, !opts.NoIgnoreFiles, opts.Exclude)
	if err != nil {
		return stats, fmt.Errorf("sync %s: %w", localDir, err)
	}
	local, err := walkLocal(root, ig, len(opts.Exclude), opts.Warnings, &stats)
	if err != nil {
		return stats, fmt.Errorf("sync %s: %w", localDir, err)
	}
	remote, err := listRemoteTree(ctx, exec, dest, opts.Warnings)
	if err != nil {
		return stats, fmt.Errorf("sync %s to %s: %w", localDir, dest, err)
	}
	plan, err := planSync(local, remote, ig, opts.Delete)
	if err != nil {
		return stats, fmt.Errorf("sync %s to %s: %w", localDir, dest, err)
	}
	if opts.Checksum && len(plan.verify) > 0 {
		changed, err := checksumDiffers(ctx, exec, root, dest, plan.verify, opts.Warnings)
		if err != nil {
			return stats, err
		}
		plan.unchanged += len(plan.verify) - len(changed)
		plan.send = append(plan.send, changed...)
		slices.SortFunc(plan.send, func(a, b localItem) int { return strings.Compare(a.Rel, b.Rel) })
	} else {
		plan.send = append(plan.send, plan.verify...)
		slices.SortFunc(plan.send, func(a, b localItem) int { return strings.Compare(a.Rel, b.Rel) })
	}
	stats.Unchanged = plan.unchanged
	for _, it := range plan.send {
		stats.Sent = append(stats.Sent, it.Rel)
	}
	stats.Removed = plan.deletes
	stats.Deleted = len(plan.deletes)

	if opts.DryRun || (len(plan.send) == 0 && len(plan.deletes) == 0) {
		if opts.DryRun {
			countItems(plan.send, &stats)
		}
		stats.Duration = time.Since(start)
		return stats, nil
	}
	prog := newProgress(opts.Progress, "sync "+filepath.Base(root), totalBytes(plan.send))
	err = sendStream(ctx, exec, "sync "+localDir+" to "+dest, dest, plan.send, plan.deletes, prog, &stats, opts.Warnings)
	prog.finish()
	stats.Duration = time.Since(start)
	return stats, err
}

// walkLocal lists root's tree (root itself left out) in lexical order, parents before
// children, leaving out what ig leaves out.
func walkLocal(root string, ig *ignorer, extraCount int, warn io.Writer, stats *Stats) ([]localItem, error) {
	var items []localItem
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		sub, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		rel := filepath.ToSlash(sub)
		if ig.ignored(rel, d.IsDir()) {
			stats.Ignored++
			if d.IsDir() && ig.prunes(rel) {
				return filepath.SkipDir
			}
			if d.IsDir() {
				return ig.addDir(root, rel, extraCount)
			}
			return nil
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
		if d.IsDir() {
			return ig.addDir(root, rel, extraCount)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", root, err)
	}
	return items, nil
}

// listRemoteTree lists dir's whole tree by path, empty when dir is not there yet. The staging
// directories of uploads (under way, or left by a helper that was killed) are left out: they
// are neither compared nor deleted, and the next upload to their directory sweeps them.
func listRemoteTree(ctx context.Context, exec Exec, dir string, warn io.Writer) (map[string]remoteEntry, error) {
	entries, isDir, err := findRemote(ctx, exec, dir, 0, warn)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]remoteEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	if !isDir {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	tree := make(map[string]remoteEntry, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Path, stagePrefix) || strings.Contains(e.Path, "/"+stagePrefix) {
			continue
		}
		tree[e.Path] = e
	}
	return tree, nil
}

// syncPlan is what a sync does.
type syncPlan struct {
	// send are the local entries to send.
	send []localItem
	// verify are files of the same size and another time: changed unless their checksums
	// match (Options.Checksum), else sent.
	verify []localItem
	// deletes are the remote paths to remove, a directory standing for its contents.
	deletes   []string
	unchanged int
}

// planSync compares the local entries with the remote tree.
func planSync(local []localItem, remote map[string]remoteEntry, ig *ignorer, del bool) (syncPlan, error) {
	var plan syncPlan
	// protected are the remote directories holding something the ignore files leave out:
	// they are never removed whole.
	protected := map[string]bool{}
	for rel, e := range remote {
		if ig.ignored(rel, e.Mode.IsDir()) {
			for i := 0; i < len(rel); i++ {
				if rel[i] == '/' {
					protected[rel[:i]] = true
				}
			}
			protected[rel] = true
		}
	}
	removed := map[string]bool{}
	inLocal := make(map[string]bool, len(local))
	for _, it := range local {
		inLocal[it.Rel] = true
		r, there := remote[it.Rel]
		localDir := it.Info.IsDir()
		if there && r.Mode.IsDir() != localDir {
			// A directory where a file goes, or the other way round: it must go first.
			if !del {
				return plan, fmt.Errorf("remote %s is a %s and local %s a %s: sync with delete to replace it", it.Rel, kindOf(r.Mode), it.Rel, kindOf(it.Info.Mode()))
			}
			if protected[it.Rel] {
				return plan, fmt.Errorf("remote directory %s is in the way of local %s, and holds files the ignore files leave out: remove it by hand", it.Rel, kindOf(it.Info.Mode()))
			}
			plan.deletes = append(plan.deletes, it.Rel)
			removed[it.Rel] = true
			plan.send = append(plan.send, it)
			continue
		}
		mode := it.Info.Mode()
		switch {
		case localDir:
			if !there {
				plan.send = append(plan.send, it)
			}
		case mode&fs.ModeSymlink != 0:
			if there && r.Mode&fs.ModeSymlink != 0 && r.Link != "" && r.Link == it.Link {
				plan.unchanged++
			} else {
				plan.send = append(plan.send, it)
			}
		case !there || !r.Mode.IsRegular() || r.Size != it.Info.Size():
			plan.send = append(plan.send, it)
		case r.ModTime.Unix() == it.Info.ModTime().Unix():
			plan.unchanged++
		default:
			plan.verify = append(plan.verify, it)
		}
	}
	if !del {
		return plan, nil
	}
	rels := make([]string, 0, len(remote))
	for rel := range remote {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	for _, rel := range rels {
		if inLocal[rel] || protected[rel] || underRemoved(rel, removed) {
			continue
		}
		// A directory holding protected files stays; what else it holds goes one by one.
		plan.deletes = append(plan.deletes, rel)
		removed[rel] = true
	}
	slices.Sort(plan.deletes)
	return plan, nil
}

// underRemoved reports whether a parent directory of rel is being removed.
func underRemoved(rel string, removed map[string]bool) bool {
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && removed[rel[:i]] {
			return true
		}
	}
	return false
}

func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "file"
	}
}

// checksumDiffers returns the items whose local and remote SHA-256 differ.
func checksumDiffers(ctx context.Context, exec Exec, root, dest string, items []localItem, warn io.Writer) ([]localItem, error) {
	var list strings.Builder
	for _, it := range items {
		list.WriteString(it.Rel)
		list.WriteByte(0)
	}
	var out strings.Builder
	if err := shell(ctx, exec, "checksums in "+dest, checksumScript, strings.NewReader(list.String()), &out, warn, dest); err != nil {
		return nil, err
	}
	sums := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(sums) != len(items) {
		return nil, fmt.Errorf("checksums in %s: %d answers for %d files", dest, len(sums), len(items))
	}
	var changed []localItem
	for i, it := range items {
		sum, err := localSHA256(filepath.Join(root, filepath.FromSlash(it.Rel)))
		if err != nil {
			return nil, err
		}
		if sum != sums[i] {
			changed = append(changed, it)
		}
	}
	return changed, nil
}

func localSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReader(f)); err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// countItems counts items into stats as writeTar would.
func countItems(items []localItem, stats *Stats) {
	for _, it := range items {
		switch m := it.Info.Mode(); {
		case m.IsDir():
			stats.Dirs++
		case m&fs.ModeSymlink != 0:
			stats.Symlinks++
		default:
			stats.Files++
			stats.Bytes += it.Info.Size()
		}
	}
}

package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Ignore files Sync reads.
const (
	gitignoreFile    = ".gitignore"
	dockerignoreFile = ".dockerignore"
	gitInfoExclude   = ".git/info/exclude"
)

// ignorer decides which paths of a sync's local root are left out: what the .gitignore files
// leave out (the root's, and each directory's below it, deeper files overriding; the root's
// .git/info/exclude below them all and Options.Exclude above them all, as git orders them),
// and what the root's .dockerignore excludes. Paths are relative to the root, '/'-separated.
type ignorer struct {
	git    []gitPattern
	docker []dockerPattern
}

// newIgnorer reads the root's ignore files (the nested .gitignore files are added by
// addDir as the walk reaches them). extra are Options.Exclude.
func newIgnorer(root string, useFiles bool, extra []string) (*ignorer, error) {
	ig := &ignorer{}
	if useFiles {
		for _, name := range []string{gitInfoExclude, gitignoreFile} {
			text, err := readIgnoreFile(filepath.Join(root, filepath.FromSlash(name)))
			if err != nil {
				return nil, err
			}
			ig.git = append(ig.git, parseGitignore(text, "")...)
		}
		text, err := readIgnoreFile(filepath.Join(root, dockerignoreFile))
		if err != nil {
			return nil, err
		}
		ig.docker = parseDockerignore(text)
	}
	ig.git = append(ig.git, parseGitignore(strings.Join(extra, "\n"), "")...)
	return ig, nil
}

// readIgnoreFile is a file's text, "" when it is not there.
func readIgnoreFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	return string(b), nil
}

// addDir reads the .gitignore of dir (relative to root, not the root itself). Its patterns go
// before Options.Exclude's, which stay the strongest.
func (ig *ignorer) addDir(root, dir string, extraCount int) error {
	text, err := readIgnoreFile(filepath.Join(root, filepath.FromSlash(dir), gitignoreFile))
	if err != nil || text == "" {
		return err
	}
	patterns := parseGitignore(text, dir)
	at := len(ig.git) - extraCount
	ig.git = append(ig.git[:at], append(patterns, ig.git[at:]...)...)
	return nil
}

// ignored reports whether rel (a directory when isDir) is left out. A path below a directory
// git leaves out is left out too, whatever a later '!' says, as in git.
func (ig *ignorer) ignored(rel string, isDir bool) bool {
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && ig.gitIgnored(rel[:i], true) {
			return true
		}
	}
	return ig.gitIgnored(rel, isDir) || dockerExcluded(ig.docker, rel)
}

// gitIgnored is the .gitignore verdict on rel itself: the last pattern that matches decides.
func (ig *ignorer) gitIgnored(rel string, isDir bool) bool {
	for i := len(ig.git) - 1; i >= 0; i-- {
		if ig.git[i].match(rel, isDir) {
			return !ig.git[i].negate
		}
	}
	return false
}

// prunes reports whether a directory that is left out need not be walked: nothing below it
// can come back (git never re-includes below an excluded directory; Docker can, with '!').
func (ig *ignorer) prunes(rel string) bool {
	return ig.gitIgnored(rel, true) || !dockerHasExceptions(ig.docker)
}

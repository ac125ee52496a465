package transfer

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGitPatternsMatchAsGitignoreSays holds the pattern rules to gitignore(5): each case is
// a .gitignore line (in the directory base), a path (a directory when it ends in '/') and
// whether the line matches it.
func TestGitPatternsMatchAsGitignoreSays(t *testing.T) {
	cases := []struct {
		line, base, path string
		want             bool
	}{
		// "If there is a separator at the beginning or middle of the pattern, then the pattern
		// is relative to the directory level of the particular .gitignore file itself.
		// Otherwise the pattern may also match at any level below the .gitignore level."
		{"hello.*", "", "hello.txt", true},
		{"hello.*", "", "a/b/hello.c", true},
		{"hello.*", "", "hello", false},
		{"/hello.*", "", "hello.txt", true},
		{"/hello.*", "", "a/hello.c", false},
		{"doc/frotz/", "", "doc/frotz/", true},
		{"doc/frotz/", "", "a/doc/frotz/", false},
		// "If there is a separator at the end of the pattern then the pattern will only match
		// directories."
		{"doc/frotz/", "", "doc/frotz", false},
		{"frotz/", "", "frotz/", true},
		{"frotz/", "", "a/frotz/", true},
		{"frotz/", "", "a/frotz", false},
		// "foo/* matches foo/test.json and foo/bar, but not foo/bar/hello.c"
		{"foo/*", "", "foo/test.json", true},
		{"foo/*", "", "foo/bar/", true},
		{"foo/*", "", "foo/bar/hello.c", false},
		// Leading "**/": in all directories.
		{"**/foo", "", "foo", true},
		{"**/foo", "", "a/b/foo/", true},
		{"**/foo/bar", "", "foo/bar", true},
		{"**/foo/bar", "", "x/y/foo/bar", true},
		{"**/foo/bar", "", "foo/x/bar", false},
		// Trailing "/**": everything inside.
		{"abc/**", "", "abc/x", true},
		{"abc/**", "", "abc/x/y/z", true},
		{"abc/**", "", "abc/", false},
		{"abc/**", "", "x/abc/y", false},
		// "/**/": zero or more directories.
		{"a/**/b", "", "a/b", true},
		{"a/**/b", "", "a/x/b", true},
		{"a/**/b", "", "a/x/y/b", true},
		{"a/**/b", "", "a/xb", false},
		// "Other consecutive asterisks are considered regular asterisks."
		{"foo**bar", "", "fooxbar", true},
		{"foo**bar", "", "foo/bar", false},
		{"**", "", "any/thing/", true},
		// '*' and '?' never match '/'.
		{"a/*/b", "", "a/x/b", true},
		{"a/*/b", "", "a/x/y/b", false},
		{"file?.txt", "", "file1.txt", true},
		{"file?.txt", "", "file10.txt", false},
		{"?", "", "é", true},
		// Character classes.
		{"[abc].txt", "", "b.txt", true},
		{"[abc].txt", "", "d.txt", false},
		{"[!abc].txt", "", "d.txt", true},
		{"[!abc].txt", "", "a.txt", false},
		{"[^abc].txt", "", "a.txt", false},
		{"[a-c]x", "", "bx", true},
		{"[a-c]x", "", "dx", false},
		{"[]]x", "", "]x", true},
		{"[a-]x", "", "-x", true},
		{"[[:digit:]]*", "", "1abc", true},
		{"[[:digit:]]*", "", "abc", false},
		{"[[:upper:][:digit:]]", "", "Q", true},
		{"[unclosed", "", "[unclosed", true},
		// Escapes, comments, trailing spaces.
		{`\#file`, "", "#file", true},
		{`\!important`, "", "!important", true},
		{`\*`, "", "*", true},
		{`\*`, "", "x", false},
		{"trailing   ", "", "trailing", true},
		{"trailing   ", "", "trailing ", false},
		{`escaped\ `, "", "escaped ", true},
		// A nested .gitignore's patterns are relative to its directory.
		{"*.o", "sub", "sub/x.o", true},
		{"*.o", "sub", "sub/d/x.o", true},
		{"*.o", "sub", "x.o", false},
		{"*.o", "sub", "subx/x.o", false},
		{"/only", "sub", "sub/only", true},
		{"/only", "sub", "sub/d/only", false},
		{"d/e", "sub", "sub/d/e", true},
	}
	for _, tc := range cases {
		p, ok := parseGitLine(tc.line, tc.base)
		if !ok {
			t.Errorf("%q: no pattern", tc.line)
			continue
		}
		isDir := strings.HasSuffix(tc.path, "/")
		if got := p.match(strings.TrimSuffix(tc.path, "/"), isDir); got != tc.want {
			t.Errorf("%q (in %q) matching %q = %v, want %v", tc.line, tc.base, tc.path, got, tc.want)
		}
	}
	for _, line := range []string{"", "   ", "# a comment", "!", "/"} {
		if _, ok := parseGitLine(line, ""); ok {
			t.Errorf("%q is a pattern, want none", line)
		}
	}
}

// TestIgnoreFilesDecideAsGitDoes: the last matching line wins, '!' re-includes, nothing comes
// back below an excluded directory, deeper files override, excludes override them all.
func TestIgnoreFilesDecideAsGitDoes(t *testing.T) {
	cases := []struct {
		name    string
		files   tree
		exclude []string
		ignored []string
		kept    []string
	}{
		{name: "negation", files: tree{".gitignore": "*.txt\n!important.txt\n"},
			ignored: []string{"a.txt", "d/b.txt"}, kept: []string{"important.txt", "d/important.txt", "a.md"}},
		{name: "everything but foo/bar (gitignore(5))", files: tree{".gitignore": "/*\n!/foo\n/foo/*\n!/foo/bar\n"},
			ignored: []string{"other", "foo/baz", "foo/baz/x"}, kept: []string{"foo/", "foo/bar", "foo/bar/x"}},
		{name: "no re-include below an excluded directory", files: tree{".gitignore": "build/\n!build/keep\n"},
			ignored: []string{"build/", "build/keep", "a/build/x"}, kept: []string{"build", "buildx/y"}},
		{name: "a deeper file overrides", files: tree{".gitignore": "*.log\n", "sub/.gitignore": "!keep.log\n"},
			ignored: []string{"x.log", "other/keep.log"}, kept: []string{"sub/keep.log", "sub/d/keep.log"}},
		{name: "info/exclude is weakest", files: tree{".git/info/exclude": "*.bin\n", ".gitignore": "!keep.bin\n"},
			ignored: []string{"x.bin"}, kept: []string{"keep.bin"}},
		{name: "Exclude is strongest", files: tree{".gitignore": "!*.tmp\n", "sub/.gitignore": "!*.tmp\n"}, exclude: []string{"*.tmp"},
			ignored: []string{"a.tmp", "sub/b.tmp"}},
		{name: "dockerignore is anchored and re-includes below an excluded directory",
			files:   tree{".dockerignore": "*.md\n!README.md\nvendor\n!vendor/keep\n**/*.pyc\n/abs\n./dot\n"},
			ignored: []string{"a.md", "vendor/", "vendor/x", "p/q.pyc", "q.pyc", "abs", "dot/x"},
			kept:    []string{"README.md", "sub/a.md", "vendor/keep", "sub/vendor", "x/abs"}},
		{name: "both files", files: tree{".gitignore": "*.log\n", ".dockerignore": "data\n"},
			ignored: []string{"a.log", "data/x"}, kept: []string{"a.txt", "sub/data"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.files.write(t, root)
			ig, err := newIgnorer(root, true, tc.exclude)
			if err != nil {
				t.Fatal(err)
			}
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() && p != root {
					rel, _ := filepath.Rel(root, p)
					return ig.addDir(root, filepath.ToSlash(rel), len(tc.exclude))
				}
				return nil
			})
			check := func(paths []string, want bool) {
				for _, p := range paths {
					isDir := strings.HasSuffix(p, "/")
					if got := ig.ignored(strings.TrimSuffix(p, "/"), isDir); got != want {
						t.Errorf("ignored(%q) = %v, want %v", p, got, want)
					}
				}
			}
			check(tc.ignored, true)
			check(tc.kept, false)
		})
	}
}

// TestIgnoredFilesAreTheOnesGitIgnores compares, on one tree, the files Sync leaves out with
// those git itself reports as ignored (git ls-files --others --ignored --exclude-standard).
func TestIgnoredFilesAreTheOnesGitIgnores(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	files := tree{
		".gitignore": strings.Join([]string{
			"# comment", "*.log", "!keep.log", "/build/", "node_modules/", "**/cache/**", "!**/cache/**/keep",
			"docs/*.html", "!docs/index.html", "tmp?", "[Tt]humbs.db", "a/**/z", "*.o", "\\#hash", "space\\ ", "trailing   ",
			"/anchored", "dironly/", "deep/er/", "**/gen", "!gen/keep.go", "lib/[!x]*.a",
		}, "\n") + "\n",
		"src/.gitignore":   "!*.log\n/local.txt\nvendor\n",
		"src/a/.gitignore": "!local.txt\n*.cfg\n",
	}
	paths := []string{
		"a.log", "keep.log", "b.txt", "build/x", "src/build/x", "node_modules/m/i.js", "src/node_modules/n",
		"x/cache/y", "x/cache/z/keep", "cache/file", "docs/a.html", "docs/index.html", "docs/sub/b.html",
		"tmp1", "tmp12", "sub/tmpx", "Thumbs.db", "thumbs.db", "x/Thumbs.db", "a/z", "a/b/z", "a/b/c/z", "b/a/z",
		"main.o", "src/x.o", "#hash", "space ", "space", "trailing", "anchored", "src/anchored",
		"dironly/f", "dironly.f", "x/dironly/f", "deep/er/f", "x/deep/er/f", "gen/keep.go", "gen/other.go", "x/gen",
		"lib/a.a", "lib/x.a", "lib/sub/b.a", "src/s.log", "src/local.txt", "src/a/local.txt", "src/b/local.txt",
		"src/a/c.cfg", "src/c.cfg", "src/vendor/v", "src/x/vendor", "vendor/top",
	}
	for _, p := range paths {
		files[p] = "x"
	}
	files.write(t, root)
	run := func(args ...string) string {
		cmd := exec.Command(git, args...)
		cmd.Dir = root
		cmd.Env = []string{"HOME=" + root, "GIT_CONFIG_NOSYSTEM=1", "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	run("init", "-q")
	var fromGit []string
	for _, line := range strings.Split(run("ls-files", "-z", "--others", "--ignored", "--exclude-standard"), "\x00") {
		if line != "" {
			fromGit = append(fromGit, line)
		}
	}
	ig, err := newIgnorer(root, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stats Stats
	items, err := walkLocal(root, ig, 0, nil, &stats)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, it := range items {
		kept[it.Rel] = true
	}
	var fromUs []string
	for p := range files {
		if !kept[p] && !strings.HasPrefix(p, ".git/") {
			fromUs = append(fromUs, p)
		}
	}
	slices.Sort(fromGit)
	slices.Sort(fromUs)
	if !slices.Equal(fromUs, fromGit) {
		t.Errorf("ignored files differ from git's\n ours: %q\n git:  %q", fromUs, fromGit)
	}
}

// TestDockerPatternsMatchAsDockerSays holds .dockerignore lines to Docker's documented rules
// (https://docs.docker.com/build/concepts/context/#dockerignore-files).
func TestDockerPatternsMatchAsDockerSays(t *testing.T) {
	cases := []struct {
		line, path string
		want       bool
	}{
		{"*/temp*", "somedir/temporary.txt", true},
		{"*/temp*", "somedir/temp", true},
		{"*/temp*", "temp", false},
		{"*/*/temp*", "somedir/subdir/temporary.txt", true},
		{"temp?", "tempa", true},
		{"temp?", "tempab", false},
		{"**/*.go", "a.go", true},
		{"**/*.go", "x/y/a.go", true},
		{"*.md", "README.md", true},
		{"*.md", "docs/README.md", false},
		{"docs", "docs/x/y.md", true},
		{"docs/", "docs/x", true},
		{"/docs", "docs", true},
		{"./docs", "docs", true},
		{"a/**", "a/b/c", true},
		{"a/**", "a", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"[ab].txt", "b.txt", true},
		{"[!ab].txt", "b.txt", false},
		{"[!ab].txt", "c.txt", true},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{"a.b", "axb", false},
		{"   spaced   ", "spaced", true},
	}
	for _, tc := range cases {
		ps := parseDockerignore(tc.line)
		if len(ps) != 1 {
			t.Errorf("%q: %d patterns", tc.line, len(ps))
			continue
		}
		if got := dockerExcluded(ps, tc.path); got != tc.want {
			t.Errorf("%q excluding %q = %v, want %v", tc.line, tc.path, got, tc.want)
		}
	}
	for _, line := range []string{"", "# comment", "/", "."} {
		if ps := parseDockerignore(line); len(ps) != 0 {
			t.Errorf("%q gave patterns", line)
		}
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSourcesAreFilesDirectoriesAndStdin(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", "b")
	write("a.yml", "a")
	write("c.json", "c")
	write("notes.txt", "not a document")
	write("sub/d.yaml", "d")
	write("empty/readme.md", "x")
	names := func(srcs []Source) []string {
		var out []string
		for _, s := range srcs {
			out = append(out, strings.TrimPrefix(s.Name, dir+"/")+"="+s.Text)
		}
		return out
	}
	cases := map[string]struct {
		paths     []string
		recursive bool
		stdin     string
		want      []string
		wantErr   string
	}{
		"a directory":         {paths: []string{dir}, want: []string{"a.yml=a", "b.yaml=b", "c.json=c"}},
		"recursively":         {paths: []string{dir}, recursive: true, want: []string{"a.yml=a", "b.yaml=b", "c.json=c", "sub/d.yaml=d"}},
		"a file and stdin":    {paths: []string{filepath.Join(dir, "notes.txt"), "-"}, stdin: "s", want: []string{"notes.txt=not a document", "stdin=s"}},
		"stdin twice":         {paths: []string{"-", "-"}, wantErr: "-f - can be given once"},
		"nothing given":       {wantErr: "give the documents with -f"},
		"a missing file":      {paths: []string{filepath.Join(dir, "nope.yaml")}, wantErr: "no such file"},
		"a directory of none": {paths: []string{filepath.Join(dir, "empty")}, wantErr: "the directory has no .yaml, .yml or .json file (-R reads the directories below it too)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ReadSources(tc.paths, tc.recursive, strings.NewReader(tc.stdin))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" {
				if diff := cmp.Diff(tc.want, names(got)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

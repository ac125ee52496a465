package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Source is one input of apply or delete: a file's name and text.
type Source struct {
	// Name is the file as given (or found in a directory), or "stdin".
	Name string
	Text string
}

// documentExtensions are the files read from a directory.
var documentExtensions = []string{".yaml", ".yml", ".json"}

// ReadSources reads the -f inputs: files, directories (their .yaml, .yml and .json files,
// and with recursive those of every directory below, in name order) and "-" for stdin.
func ReadSources(paths []string, recursive bool, stdin io.Reader) ([]Source, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("give the documents with -f FILE, -f DIRECTORY or -f - (stdin)")
	}
	var sources []Source
	readStdin := false
	for _, p := range paths {
		if p == "-" {
			if readStdin {
				return nil, fmt.Errorf("-f - can be given once")
			}
			readStdin = true
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			sources = append(sources, Source{Name: "stdin", Text: string(data)})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", p, err)
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("-f %s: %w", p, err)
			}
			sources = append(sources, Source{Name: p, Text: string(data)})
			continue
		}
		files, err := documentFiles(p, recursive)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", p, err)
		}
		if len(files) == 0 {
			hint := ""
			if !recursive {
				hint = " (-R reads the directories below it too)"
			}
			return nil, fmt.Errorf("-f %s: the directory has no .yaml, .yml or .json file%s", p, hint)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("-f %s: %w", f, err)
			}
			sources = append(sources, Source{Name: f, Text: string(data)})
		}
	}
	return sources, nil
}

// documentFiles lists the document files of dir, sorted, descending when recursive.
func documentFiles(dir string, recursive bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(filepath.Ext(p))
		for _, e := range documentExtensions {
			if ext == e {
				files = append(files, p)
				break
			}
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

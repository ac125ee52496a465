package transfer

import (
	"path"
	"regexp"
	"strings"
)

// dockerPattern is one line of a .dockerignore, as Docker reads it: patterns are relative to
// the root (a leading '/' means nothing more), cleaned (a trailing '/' is dropped, so "foo/"
// is "foo"), and a pattern that matches a directory matches everything below it. '*' and
// '?' stay within a path element, "**" matches any number of them, '!' re-includes (also
// below an excluded directory, which git does not allow), and the last match wins.
type dockerPattern struct {
	re     *regexp.Regexp
	negate bool
}

// parseDockerignore reads a .dockerignore's text. Patterns that do not compile match nothing.
func parseDockerignore(text string) []dockerPattern {
	var out []dockerPattern
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		p := dockerPattern{}
		if line[0] == '!' {
			p.negate = true
			line = strings.TrimSpace(line[1:])
		}
		line = path.Clean(line)
		if len(line) > 1 && line[0] == '/' {
			line = line[1:]
		}
		if line == "" || line == "." || line == "/" {
			continue
		}
		re, err := regexp.Compile(dockerRegexp(line))
		if err != nil {
			continue
		}
		p.re = re
		out = append(out, p)
	}
	return out
}

// dockerRegexp turns a cleaned .dockerignore pattern into an anchored regular expression.
func dockerRegexp(pat string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '*' && i+1 < len(pat) && pat[i+1] == '*':
			i++
			// "**/" is "**": it matches any number of elements, none included.
			if i+1 < len(pat) && pat[i+1] == '/' {
				i++
			}
			if i+1 == len(pat) {
				b.WriteString(".*")
			} else {
				b.WriteString("(.*/)?")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '\\' && i+1 < len(pat):
			i++
			b.WriteString(regexp.QuoteMeta(pat[i : i+1]))
		case c == '[':
			// A set as filepath.Match writes it; '!' negates there too.
			end := strings.IndexByte(pat[i+1:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			set := pat[i+1 : i+1+end]
			if strings.HasPrefix(set, "!") {
				set = "^" + set[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(set, `\`, `\\`) + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(pat[i : i+1]))
		}
	}
	b.WriteString("$")
	return b.String()
}

// dockerExcluded reports whether the patterns exclude rel: for each pattern in order, it
// matches rel or one of rel's parent directories, and the last that matches decides.
func dockerExcluded(patterns []dockerPattern, rel string) bool {
	excluded := false
	for _, p := range patterns {
		if p.negate != excluded {
			// Only a pattern that could change the answer is worth trying.
			continue
		}
		if p.matchesOrParent(rel) {
			excluded = !p.negate
		}
	}
	return excluded
}

func (p dockerPattern) matchesOrParent(rel string) bool {
	if p.re.MatchString(rel) {
		return true
	}
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && p.re.MatchString(rel[:i]) {
			return true
		}
	}
	return false
}

// dockerHasExceptions reports whether some pattern re-includes: then an excluded directory
// must still be walked, since something below it may be re-included.
func dockerHasExceptions(patterns []dockerPattern) bool {
	for _, p := range patterns {
		if p.negate {
			return true
		}
	}
	return false
}

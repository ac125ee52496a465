package transfer

import (
	"strings"
	"unicode/utf8"
)

// gitPattern is one line of a .gitignore, as gitignore(5) reads it.
type gitPattern struct {
	// base is the directory of the .gitignore it came from, relative to the sync's root,
	// '/'-separated, "" for the root.
	base string
	// segments are the pattern split on '/'. A pattern with no '/' but a trailing one matches
	// the base name at any depth (basename); others match the path below base.
	segments []string
	basename bool
	negate   bool
	dirOnly  bool
}

// parseGitignore reads a .gitignore's text; base is its directory.
func parseGitignore(text, base string) []gitPattern {
	var out []gitPattern
	for line := range strings.SplitSeq(text, "\n") {
		if p, ok := parseGitLine(strings.TrimSuffix(line, "\r"), base); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseGitLine reads one line: blank lines and '#' comments match nothing; trailing spaces go
// unless backslash-escaped; a leading '!' negates ("\!" and "\#" are literal); a trailing '/'
// matches directories only; a '/' at the start or in the middle anchors the pattern to base.
func parseGitLine(line, base string) (gitPattern, bool) {
	line = trimTrailingSpaces(line)
	if line == "" || line[0] == '#' {
		return gitPattern{}, false
	}
	p := gitPattern{base: base}
	if line[0] == '!' {
		p.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") && !strings.HasSuffix(line, "\\/") {
		p.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return gitPattern{}, false
	}
	p.basename = !strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	p.segments = strings.Split(line, "/")
	return p, true
}

// trimTrailingSpaces drops trailing spaces that are not escaped with a backslash.
func trimTrailingSpaces(s string) string {
	end := len(s)
	for end > 0 && s[end-1] == ' ' {
		// Count the backslashes before this space: an odd number escapes it.
		n := 0
		for i := end - 2; i >= 0 && s[i] == '\\'; i-- {
			n++
		}
		if n%2 == 1 {
			break
		}
		end--
	}
	return s[:end]
}

// match reports whether the pattern matches rel (relative to the sync's root), a directory
// when isDir.
func (p gitPattern) match(rel string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	if p.base != "" {
		if !strings.HasPrefix(rel, p.base+"/") {
			return false
		}
		rel = rel[len(p.base)+1:]
	}
	if p.basename {
		return globSegment(p.segments[0], rel[strings.LastIndexByte(rel, '/')+1:])
	}
	return matchSegments(p.segments, strings.Split(rel, "/"))
}

// matchSegments matches path segments against pattern segments, where a "**" segment matches
// any number of directories: "**/x" at the start also x itself, "a/**/b" also a/b, and "a/**"
// at the end everything below a but not a.
func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			if len(rest) == 0 {
				return len(segs) > 0
			}
			for i := 0; i <= len(segs); i++ {
				if matchSegments(rest, segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 || !globSegment(pat[0], segs[0]) {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// globSegment matches one path segment (no '/') against one pattern segment: '*' matches any
// run of characters (so does "**" inside a segment), '?' one character, "[...]" one of a set
// ("[!...]" or "[^...]" one not in it, with ranges a-z and classes [:alpha:]), and '\'
// escapes the next character.
func globSegment(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			pat = strings.TrimLeft(pat, "*")
			if pat == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globSegment(pat, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			pat, s = pat[1:], s[n:]
		case '[':
			r, n := utf8.DecodeRuneInString(s)
			if s == "" {
				return false
			}
			ok, rest, valid := matchClass(pat, r)
			if !valid {
				// An unclosed '[' is a literal character.
				if s[0] != '[' {
					return false
				}
				pat, s = pat[1:], s[1:]
				continue
			}
			if !ok {
				return false
			}
			pat, s = rest, s[n:]
		case '\\':
			if len(pat) == 1 {
				// A trailing backslash matches nothing (git: an invalid pattern).
				return false
			}
			pat = pat[1:]
			fallthrough
		default:
			pr, pn := utf8.DecodeRuneInString(pat)
			sr, sn := utf8.DecodeRuneInString(s)
			if s == "" || pr != sr {
				return false
			}
			pat, s = pat[pn:], s[sn:]
		}
	}
	return s == ""
}

// matchClass matches r against the bracket expression at the start of pat; it returns what
// follows the expression, and valid false when the expression is not closed.
func matchClass(pat string, r rune) (ok bool, rest string, valid bool) {
	i := 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	matched := false
	first := true
	for i < len(pat) {
		c := pat[i]
		if c == ']' && !first {
			return matched != negate, pat[i+1:], true
		}
		first = false
		if c == '[' && i+1 < len(pat) && pat[i+1] == ':' {
			if end := strings.Index(pat[i+2:], ":]"); end >= 0 {
				if classMatches(pat[i+2:i+2+end], r) {
					matched = true
				}
				i += 2 + end + 2
				continue
			}
		}
		lo, n := classChar(pat[i:])
		if n == 0 {
			return false, "", false
		}
		i += n
		hi := lo
		if i+1 < len(pat) && pat[i] == '-' && pat[i+1] != ']' {
			var m int
			hi, m = classChar(pat[i+1:])
			if m == 0 {
				return false, "", false
			}
			i += 1 + m
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
	return false, "", false
}

// classChar reads one character of a bracket expression, backslash escapes included; n is
// how many bytes it took, 0 at the end of the pattern.
func classChar(s string) (rune, int) {
	if s == "" {
		return 0, 0
	}
	if s[0] == '\\' && len(s) > 1 {
		r, n := utf8.DecodeRuneInString(s[1:])
		return r, n + 1
	}
	return utf8.DecodeRuneInString(s)
}

// classMatches is a POSIX character class, such as alpha or digit, for ASCII.
func classMatches(class string, r rune) bool {
	switch class {
	case "alnum":
		return isAlpha(r) || isDigit(r)
	case "alpha":
		return isAlpha(r)
	case "blank":
		return r == ' ' || r == '\t'
	case "cntrl":
		return r < 0x20 || r == 0x7f
	case "digit":
		return isDigit(r)
	case "graph":
		return r > 0x20 && r < 0x7f
	case "lower":
		return r >= 'a' && r <= 'z'
	case "print":
		return r >= 0x20 && r < 0x7f
	case "punct":
		return r > 0x20 && r < 0x7f && !isAlpha(r) && !isDigit(r)
	case "space":
		return r == ' ' || (r >= '\t' && r <= '\r')
	case "upper":
		return r >= 'A' && r <= 'Z'
	case "xdigit":
		return isDigit(r) || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
	}
	return false
}

func isAlpha(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
func isDigit(r rune) bool { return r >= '0' && r <= '9' }

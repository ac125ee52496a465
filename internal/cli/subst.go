package cli

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Variables are the -e NAME=value pairs of apply and delete, substituted into documents
// before they are read, as Dora's CLI did.
type Variables map[string]string

// variableName is what a variable may be called: a letter or '_', then letters, digits, '_'.
var variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseVariables reads NAME=value pairs. The value may be empty and may contain '='.
func ParseVariables(pairs []string) (Variables, error) {
	vars := Variables{}
	for _, pair := range pairs {
		name, value, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("-e %q: give NAME=value, such as -e IMAGE=ubuntu:24.04", pair)
		}
		if !variableName.MatchString(name) {
			return nil, fmt.Errorf("-e %q: %q is not a variable name: use letters, digits and '_', starting with a letter or '_'", pair, name)
		}
		vars[name] = value
	}
	return vars, nil
}

// reference is $NAME or ${NAME}.
var reference = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Substitute replaces $NAME and ${NAME} with the value of every variable given. A reference
// to a variable that was not given stays as it is, so a command's own $HOME or $$ is left
// alone. used lists the variables that were referenced, so that one never used can be
// reported.
func (v Variables) Substitute(text string) (out string, used map[string]bool) {
	used = map[string]bool{}
	out = reference.ReplaceAllStringFunc(text, func(ref string) string {
		name := strings.Trim(ref, "${}")
		value, ok := v[name]
		if !ok {
			return ref
		}
		used[name] = true
		return value
	})
	return out, used
}

// Unused lists, sorted, the variables that none of the uses referenced.
func (v Variables) Unused(uses ...map[string]bool) []string {
	var names []string
	for name := range v {
		found := false
		for _, u := range uses {
			found = found || u[name]
		}
		if !found {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

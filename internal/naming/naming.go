// Package naming turns Dora names into Kubernetes names. Dora names may contain dots,
// upper-case letters and spaces; Kubernetes names may not always. Every function here is
// deterministic, so the manager, the plugin and the translator agree without talking.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// WorkspaceNamespace is the namespace that holds a workspace's objects: the workspace name
// with '.' turned into '-' (amedeo.setti -> amedeo-setti).
func WorkspaceNamespace(workspace string) string {
	return strings.ReplaceAll(workspace, ".", "-")
}

// maxObjectName is the longest name most Kubernetes objects (DNS subdomains) may have.
const maxObjectName = 253

// ObjectName returns a valid Kubernetes object name (a DNS subdomain) for a Dora name, and
// whether it differs from the Dora name. A name that is already valid is kept. Any other is
// lower-cased, every run of characters outside [a-z0-9.-] becomes '-', and a short hash of
// the original is appended so that two Dora names never meet on one Kubernetes name:
// "Tesla V100-SXM2-16GB" -> "tesla-v100-sxm2-16gb-<8 hex digits>".
func ObjectName(doraName string) (string, bool) {
	if IsObjectName(doraName) {
		return doraName, false
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(doraName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	// Every dot-separated part must start and end with a letter or digit.
	var parts []string
	for _, part := range strings.Split(b.String(), ".") {
		if part = strings.Trim(part, "-"); part != "" {
			parts = append(parts, part)
		}
	}
	base := strings.Join(parts, ".")
	sum := sha256.Sum256([]byte(doraName))
	suffix := hex.EncodeToString(sum[:4])
	if limit := maxObjectName - len(suffix) - 1; len(base) > limit {
		base = strings.TrimRight(base[:limit], "-.")
	}
	if base == "" {
		return suffix, true
	}
	return base + "-" + suffix, true
}

// IsObjectName reports whether s is a valid DNS subdomain: at most 253 characters of
// [a-z0-9.-], each dot-separated part starting and ending with a letter or digit.
func IsObjectName(s string) bool {
	if len(s) == 0 || len(s) > maxObjectName {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !isLabel(part) {
			return false
		}
	}
	return true
}

// isLabel reports whether s is one part of a DNS subdomain: letters, digits and '-', starting
// and ending with a letter or digit.
func isLabel(s string) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

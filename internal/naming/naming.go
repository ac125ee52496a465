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

// maxLabel is the longest a DNS label or a label value may be.
const maxLabel = 63

// ShortHash is eight hex digits of the SHA-256 of s: the part of a shortened or derived name
// that keeps it apart from every
// other name shortened to the same first characters.
func ShortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// WorkloadLabelValue is the value of the dora.dev/workload label for a workload. A workload
// name is a DNS subdomain, so it is a valid label value unless it is longer than 63
// characters; such a name is shortened to its first characters, a '-' and a hash of the whole
// name, so two long names never share a value.
func WorkloadLabelValue(name string) string {
	if isLabelValue(name) {
		return name
	}
	suffix := ShortHash(name)
	head := name
	if limit := maxLabel - len(suffix) - 1; len(head) > limit {
		head = head[:limit]
	}
	// Only letters, digits and [-_.] may stay, with a letter or digit at both ends.
	head = strings.Map(func(r rune) rune {
		if isAlnum(r) || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, head)
	head = strings.TrimFunc(head, func(r rune) bool { return !isAlnum(r) })
	if head == "" {
		return suffix
	}
	return head + "-" + suffix
}

// isLabelValue reports whether s is a non-empty label value: at most 63 characters of
// [A-Za-z0-9-_.], starting and ending with a letter or digit.
func isLabelValue(s string) bool {
	if s == "" || len(s) > maxLabel {
		return false
	}
	for i, r := range s {
		if !isAlnum(r) && (r != '-' && r != '_' && r != '.' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// minLabelLimit is the shortest limit DNSLabel and DNS1035Label honour: room for a few
// characters of the name and the hash.
const minLabelLimit = 12

// DNSLabel turns s into a DNS label (RFC 1123: lower-case letters, digits and '-', starting
// and ending with a letter or digit) of at most maxLen characters, for hostnames. It is
// lower-cased and every run of other characters ('.' included) becomes one '-'
// (blue.red -> blue-red), so a label that is already valid is kept. A longer result is cut
// and ends in '-' and a hash of s, so two long inputs never meet. maxLen is raised to 12 and
// capped at 63.
//
// Two inputs that differ only in case or punctuation (blue.red, blue-red) give one label:
// callers that need distinct names must check who owns an existing object.
func DNSLabel(s string, maxLen int) string {
	return dnsLabel(s, maxLen, false)
}

// DNS1035Label is DNSLabel for names that must also start with a letter (RFC 1035), such as
// Service names: a result that would start with a digit gets the prefix "w-".
func DNS1035Label(s string, maxLen int) string {
	return dnsLabel(s, maxLen, true)
}

func dnsLabel(s string, maxLen int, letterFirst bool) string {
	maxLen = min(max(maxLen, minLabelLimit), maxLabel)
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	value := strings.Trim(b.String(), "-")
	if value == "" {
		value = ShortHash(s)
	}
	if letterFirst && (value[0] < 'a' || value[0] > 'z') {
		value = "w-" + value
	}
	if len(value) <= maxLen {
		return value
	}
	suffix := ShortHash(s)
	head := strings.TrimRight(value[:maxLen-len(suffix)-1], "-")
	return head + "-" + suffix
}

// WithSuffix appends suffix (such as "-3") to an object name, shortening the name with a hash
// when the two together would be longer than an object name may be (253 characters).
// suffix must itself be valid at the end of a DNS subdomain.
func WithSuffix(name, suffix string) string {
	if len(name)+len(suffix) <= maxObjectName {
		return name + suffix
	}
	hash := ShortHash(name)
	cut := min(max(maxObjectName-len(suffix)-len(hash)-1, 0), len(name))
	head := strings.TrimRight(name[:cut], "-.")
	if head == "" {
		return hash + suffix
	}
	return head + "-" + hash + suffix
}

package workspace

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// A workspace's namespace says whose it is and enforces, audits and warns about the
// workspace's Pod Security level, baseline unless an administrator chose another.
func TestNamespaceLabels(t *testing.T) {
	labels := func(level string) map[string]string {
		return map[string]string{
			"dora.dev/workspace":                 "amedeo.setti",
			"pod-security.kubernetes.io/enforce": level,
			"pod-security.kubernetes.io/audit":   level,
			"pod-security.kubernetes.io/warn":    level,
		}
	}
	cases := map[string]struct {
		podSecurity string
		want        map[string]string
	}{
		"left out: baseline":              {podSecurity: "", want: labels("baseline")},
		"baseline":                        {podSecurity: "baseline", want: labels("baseline")},
		"restricted":                      {podSecurity: "restricted", want: labels("restricted")},
		"privileged, for host networking": {podSecurity: "privileged", want: labels("privileged")},
		"a value the schema refuses is held to baseline, never loosened": {podSecurity: "Privileged", want: labels("baseline")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti"}, Spec: doradev1.WorkspaceSpec{PodSecurity: tc.podSecurity}}
			if diff := cmp.Diff(tc.want, namespaceLabels(ws)); diff != "" {
				t.Errorf("namespace labels (-want +got):\n%s", diff)
			}
		})
	}
}

// A patch sets only the wanted labels that are missing or differ, never the others.
func TestLabelsToSet(t *testing.T) {
	want := map[string]string{"dora.dev/workspace": "bob", "pod-security.kubernetes.io/enforce": "restricted"}
	cases := map[string]struct {
		current map[string]string
		want    map[string]string
	}{
		"in line: nothing to set": {
			current: map[string]string{"dora.dev/workspace": "bob", "pod-security.kubernetes.io/enforce": "restricted", "team": "ml"},
			want:    map[string]string{},
		},
		"no labels at all: all of them": {
			current: nil,
			want:    want,
		},
		"a level changed: that one, the other labels untouched": {
			current: map[string]string{"dora.dev/workspace": "bob", "pod-security.kubernetes.io/enforce": "baseline", "team": "ml"},
			want:    map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
		},
		"the workspace label removed or rewritten is set back": {
			current: map[string]string{"dora.dev/workspace": "alice", "pod-security.kubernetes.io/enforce": "restricted"},
			want:    map[string]string{"dora.dev/workspace": "bob"},
		},
		"an empty value is a difference": {
			current: map[string]string{"dora.dev/workspace": "bob", "pod-security.kubernetes.io/enforce": ""},
			want:    map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, labelsToSet(tc.current, want)); diff != "" {
				t.Errorf("labels to set (-want +got):\n%s", diff)
			}
		})
	}
}

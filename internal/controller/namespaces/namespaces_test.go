package namespaces

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

// A namespace belongs to the workspace that controls it, as its owner reference says and
// the live Workspace confirms; labels, which anyone who may edit a namespace can write,
// decide nothing.
func TestWorkspaceOf(t *testing.T) {
	amedeo := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti", UID: "amedeo-uid"}}
	ivan := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "ivan.rossi", UID: "ivan-uid"}}
	ownedBy := func(name string, uid types.UID, controller bool) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: name, UID: uid, Controller: ptr.To(controller)}
	}
	namespace := func(name string, labels map[string]string, owners ...metav1.OwnerReference) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, OwnerReferences: owners}}
	}
	cases := map[string]struct {
		ns *corev1.Namespace
		// notCached: only the API server has the namespace yet.
		notCached  bool
		workspaces []client.Object
		want       string
	}{
		"the workspace that controls it": {
			ns:   namespace("amedeo-setti", map[string]string{doradev1.LabelWorkspace: "amedeo.setti"}, ownedBy("amedeo.setti", "amedeo-uid", true)),
			want: "amedeo.setti",
		},
		"owned, without the label": {
			ns:   namespace("amedeo-setti", nil, ownedBy("amedeo.setti", "amedeo-uid", true)),
			want: "amedeo.setti",
		},
		"a label naming another workspace is not believed": {
			ns:   namespace("amedeo-setti", map[string]string{doradev1.LabelWorkspace: "ivan.rossi"}, ownedBy("amedeo.setti", "amedeo-uid", true)),
			want: "amedeo.setti",
		},
		"a label alone makes no namespace a workspace's": {
			ns:   namespace("team-x", map[string]string{doradev1.LabelWorkspace: "ivan.rossi"}),
			want: "team-x",
		},
		"no owner: the namespace stands for itself": {
			ns:   namespace("datasets", nil),
			want: "datasets",
		},
		"an owner that is not the controller decides nothing": {
			ns:   namespace("amedeo-setti", nil, ownedBy("amedeo.setti", "amedeo-uid", false)),
			want: "amedeo-setti",
		},
		"a controller of another kind decides nothing": {
			ns: namespace("amedeo-setti", nil, metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Workspace",
				Name: "amedeo.setti", UID: "amedeo-uid", Controller: ptr.To(true)}),
			want: "amedeo-setti",
		},
		"a reference with another UID (forged, or left by a deleted workspace) decides nothing": {
			ns:   namespace("amedeo-setti", nil, ownedBy("amedeo.setti", "someone-elses-uid", true)),
			want: "amedeo-setti",
		},
		"a reference to a workspace that is gone decides nothing": {
			ns:         namespace("amedeo-setti", nil, ownedBy("amedeo.setti", "amedeo-uid", true)),
			workspaces: []client.Object{ivan},
			want:       "amedeo-setti",
		},
		"a workspace named by a namespace that is not its own is not believed": {
			ns:   namespace("team-x", nil, ownedBy("ivan.rossi", "ivan-uid", true)),
			want: "team-x",
		},
		"a namespace only the API server has seen yet is read from it": {
			ns:        namespace("amedeo-setti", nil, ownedBy("amedeo.setti", "amedeo-uid", true)),
			notCached: true,
			want:      "amedeo.setti",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			workspaces := tc.workspaces
			if workspaces == nil {
				workspaces = []client.Object{amedeo, ivan}
			}
			// The cache has what the case says; the API server has everything.
			cachedObjs := append([]client.Object{}, workspaces...)
			if !tc.notCached {
				cachedObjs = append(cachedObjs, tc.ns.DeepCopy())
			}
			cached := testclient.Objects(cachedObjs...)
			apiServer := testclient.Objects(append(workspaces, tc.ns.DeepCopy())...)
			got, err := WorkspaceOf(ctx, cached, apiServer, tc.ns.Name)
			if err != nil {
				t.Fatalf("WorkspaceOf: %v", err)
			}
			if got != tc.want {
				t.Errorf("WorkspaceOf(%s) = %q, want %q", tc.ns.Name, got, tc.want)
			}
		})
	}
}

// A workspace the cache has not seen yet is looked up on the API server before its
// namespace is judged.
func TestWorkspaceOfReadsAWorkspaceTheCacheHasNotSeen(t *testing.T) {
	ctx := context.Background()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti", UID: "amedeo-uid"}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo-setti", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: "amedeo.setti", UID: "amedeo-uid", Controller: ptr.To(true)}}}}
	cached := testclient.Objects(ns.DeepCopy())
	apiServer := testclient.Objects(ws, ns.DeepCopy())
	got, err := WorkspaceOf(ctx, cached, apiServer, "amedeo-setti")
	if err != nil {
		t.Fatalf("WorkspaceOf: %v", err)
	}
	if got != "amedeo.setti" {
		t.Errorf("WorkspaceOf = %q, want amedeo.setti", got)
	}
}

// OwningWorkspace gives the workspace itself, for what its spec allows the namespace's
// workloads (host networking, the Pod Security level), and nil where WorkspaceOf would
// answer with the namespace's own name.
func TestOwningWorkspace(t *testing.T) {
	ctx := context.Background()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti", UID: "amedeo-uid"},
		Spec: doradev1.WorkspaceSpec{AllowHostNetwork: true, PodSecurity: doradev1.PodSecurityPrivileged}}
	owned := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo-setti", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: "amedeo.setti", UID: "amedeo-uid", Controller: ptr.To(true)}}}}
	labelled := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-x", Labels: map[string]string{doradev1.LabelWorkspace: "amedeo.setti"}}}
	c := testclient.Objects(ws, owned, labelled)

	got, err := OwningWorkspace(ctx, c, c, "amedeo-setti")
	if err != nil {
		t.Fatalf("OwningWorkspace: %v", err)
	}
	if got == nil || got.Name != "amedeo.setti" || !got.Spec.AllowHostNetwork || got.Spec.PodSecurity != doradev1.PodSecurityPrivileged {
		t.Errorf("OwningWorkspace(amedeo-setti) = %+v, want workspace amedeo.setti with its spec", got)
	}
	if got, err := OwningWorkspace(ctx, c, c, "team-x"); err != nil || got != nil {
		t.Errorf("OwningWorkspace(team-x) = %v, %v; want none: a label makes no namespace a workspace's", got, err)
	}
}

// A namespace nobody has is an error, not a guess.
func TestWorkspaceOfAMissingNamespaceIsAnError(t *testing.T) {
	c := testclient.Objects()
	if got, err := WorkspaceOf(context.Background(), c, c, "nowhere"); err == nil {
		t.Errorf("WorkspaceOf = %q, want an error", got)
	}
}

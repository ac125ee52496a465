package access

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

func TestSharedWritersReadsEverywhereAndWritesWhereInvited(t *testing.T) {
	cases := []struct {
		policy        string
		sharedWriters bool
		write         bool
	}{
		{doradev1.VolumeReadWrite, false, false},
		{doradev1.VolumeReadWrite, true, true},
		{doradev1.VolumeReadOnly, true, false},
		{doradev1.VolumeReadOnly, false, false},
	}
	for _, c := range cases {
		vol := &doradev1.Volume{Spec: doradev1.VolumeSpec{Policy: c.policy, SharedWriters: c.sharedWriters}}
		d, err := SharedWriters{}.MountVolume(context.Background(), "amedeo-setti", vol)
		if err != nil || !d.Allowed || d.Write != c.write {
			t.Errorf("policy %s, sharedWriters %v: %+v %v, want allowed, write %v", c.policy, c.sharedWriters, d, err, c.write)
		}
	}
}

// allow is an Authorizer that allows the users it lists to do anything.
type allow map[string]bool

func (a allow) Allowed(_ context.Context, u authenticationv1.UserInfo, _ authorizationv1.ResourceAttributes) (bool, error) {
	return a[u.Username], nil
}

// A namespace's workloads reach another workspace's volume only when one of those that
// mount it is owned by a user with Use on it (or by nobody: an administrator's); writes
// still need the volume to invite them.
func TestByRolesAsksForTheOwnersUse(t *testing.T) {
	vol := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: "datasets", Name: "imagenet"}, Spec: doradev1.VolumeSpec{SharedWriters: true}}
	mounting := func(name, owner string) *doradev1.Workload {
		wl := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "amedeo-setti", Name: name},
			Spec: doradev1.WorkloadSpec{Volumes: []doradev1.WorkloadVolume{{Name: "imagenet", Workspace: "datasets", Target: "/data"}}}}
		if owner != "" {
			wl.Annotations = map[string]string{doradev1.AnnotationOwner: owner}
		}
		return wl
	}
	cases := []struct {
		name      string
		workloads []client.Object
		allowed   bool
	}{
		{"no workload mounts it: no claim is granted", nil, false},
		{"its owner may use it", []client.Object{mounting("a", "amedeo.setti")}, true},
		{"its owner may not", []client.Object{mounting("a", "mallory")}, false},
		{"one of several may", []client.Object{mounting("a", "mallory"), mounting("b", "amedeo.setti")}, true},
		{"an administrator's workload, unowned", []client.Object{mounting("a", "")}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ByRoles{Client: testclient.Objects(tc.workloads...), Authorizer: allow{"oidc:amedeo.setti": true}, UsernamePrefix: "oidc:"}
			d, err := p.MountVolume(context.Background(), "amedeo-setti", vol)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tc.allowed || (d.Allowed && !d.Write) {
				t.Errorf("decision %+v, want allowed %v (and writable when allowed)", d, tc.allowed)
			}
			if !d.Allowed && d.Reason == "" {
				t.Error("a refusal must say why")
			}
		})
	}
}

package volume

import (
	"errors"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dora-hpc/dora-operator/internal/access"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// Each claim another workspace makes for the volume gets its own PersistentVolume,
// read-only unless the policy lets it write; a share whose claim is gone or no longer
// allowed is revoked; a policy that cannot answer revokes nothing; the volume's own claim
// and PersistentVolume are never shares.
func TestPlanShares(t *testing.T) {
	vol, dir := testVol(), testDir(t)
	self := types.NamespacedName{Namespace: testNamespace, Name: testVolume}
	claim := func(ns string, going bool) *corev1.PersistentVolumeClaim {
		c := nfs.Claim(self, types.NamespacedName{Namespace: ns, Name: "shared.team-a.scratch"})
		if going {
			c.DeletionTimestamp = &metav1.Time{}
		}
		return c
	}
	pvFor := func(ns string) *corev1.PersistentVolume {
		return nfs.Binding{Source: self, Claim: types.NamespacedName{Namespace: ns, Name: "shared.team-a.scratch"}, Dir: *dir}.PersistentVolume()
	}
	read, write, denied := access.Decision{Allowed: true}, access.Decision{Allowed: true, Write: true}, access.Decision{Reason: "no use verb"}
	undecided := errors.New("the policy could not be read")

	cases := []struct {
		name   string
		shares []share
		pvs    []*corev1.PersistentVolume
		// grant maps each granted claim's namespace to whether it is read-only.
		grant  map[string]bool
		revoke []string
		errs   int
	}{
		{name: "nothing asked, nothing made"},
		{name: "a reader gets a read-only PersistentVolume", shares: []share{{claim: claim("team-b", false), decision: read}},
			grant: map[string]bool{"team-b": true}},
		{name: "a writer gets a writable one", shares: []share{{claim: claim("team-b", false), decision: write}},
			grant: map[string]bool{"team-b": false}},
		{name: "a denied claim gets nothing, and its PersistentVolume goes",
			shares: []share{{claim: claim("team-b", false), decision: denied}}, pvs: []*corev1.PersistentVolume{pvFor("team-b")},
			revoke: []string{pvFor("team-b").Name}},
		{name: "a share whose claim is gone is revoked", pvs: []*corev1.PersistentVolume{pvFor("team-c")},
			revoke: []string{pvFor("team-c").Name}},
		{name: "a claim on its way out is no share", shares: []share{{claim: claim("team-b", true), decision: read}},
			pvs: []*corev1.PersistentVolume{pvFor("team-b")}, revoke: []string{pvFor("team-b").Name}},
		{name: "undecided is not denied: the share stays and the error is reported",
			shares: []share{{claim: claim("team-b", false), err: undecided}}, pvs: []*corev1.PersistentVolume{pvFor("team-b")}, errs: 1},
		{name: "the volume's own claim and PersistentVolume are no share",
			shares: []share{{claim: nfs.Claim(self, self), decision: read}}, pvs: []*corev1.PersistentVolume{pvFor(testNamespace)}},
		{name: "several workspaces at once", shares: []share{{claim: claim("team-b", false), decision: read}, {claim: claim("team-c", false), decision: write}},
			pvs: []*corev1.PersistentVolume{pvFor("team-b"), pvFor("team-d")}, grant: map[string]bool{"team-b": true, "team-c": false}, revoke: []string{pvFor("team-d").Name}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := planShares(vol, *dir, tc.shares, tc.pvs)
			granted := map[string]bool{}
			for _, g := range plan.grant {
				granted[g.binding.Claim.Namespace] = g.binding.ReadOnly
				if g.binding.Source != self || g.binding.Dir.Path() != testPath {
					t.Errorf("grant %s reaches %s at %s, want %s at %s", g.binding.Claim, g.binding.Source, g.binding.Dir.Path(), self, testPath)
				}
			}
			if len(granted) != len(tc.grant) {
				t.Errorf("granted %v, want %v", granted, tc.grant)
			}
			for ns, ro := range tc.grant {
				if got, ok := granted[ns]; !ok || got != ro {
					t.Errorf("grant to %s: present %v read-only %v; want read-only %v", ns, ok, got, ro)
				}
			}
			var revoked []string
			for _, pv := range plan.revoke {
				revoked = append(revoked, pv.Name)
			}
			if !slices.Equal(revoked, tc.revoke) {
				t.Errorf("revoked %v, want %v", revoked, tc.revoke)
			}
			if len(plan.errs) != tc.errs {
				t.Errorf("errors %v, want %d", plan.errs, tc.errs)
			}
		})
	}
}

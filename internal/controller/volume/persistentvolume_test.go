package volume

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// The PersistentVolume found under a binding's name is kept when it is the binding's,
// left alone (and reported) when it is someone else's, replaced when its read-only mode is
// stale and no claim holds it, and bound ahead again when its claim went.
func TestPersistentVolumeStep(t *testing.T) {
	dir := testDir(t)
	own := nfs.Binding{Source: types.NamespacedName{Namespace: testNamespace, Name: testVolume}, Claim: types.NamespacedName{Namespace: testNamespace, Name: testVolume}, Dir: *dir}
	share := own
	share.Claim = types.NamespacedName{Namespace: "team-b", Name: "shared.team-a.scratch.1234"}
	share.ReadOnly = true

	with := func(b nfs.Binding, change func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
		pv := b.PersistentVolume()
		change(pv)
		return pv
	}
	cases := []struct {
		name string
		pv   *corev1.PersistentVolume
		b    nfs.Binding
		want pvStep
	}{
		{"the binding's, bound", with(own, func(pv *corev1.PersistentVolume) { pv.Status.Phase = corev1.VolumeBound }), own, pvFine},
		{"the binding's, not yet bound", own.PersistentVolume(), own, pvFine},
		{"being deleted: wait for it to go", with(own, func(pv *corev1.PersistentVolume) { pv.DeletionTimestamp = &metav1.Time{} }), own, pvGoing},
		{"no source annotation: someone else's", with(own, func(pv *corev1.PersistentVolume) { pv.Annotations = nil }), own, pvClash},
		{"another server: a clash", with(own, func(pv *corev1.PersistentVolume) { pv.Spec.NFS.Server = "10.9.9.9" }), own, pvClash},
		{"another path: a clash", with(own, func(pv *corev1.PersistentVolume) { pv.Spec.NFS.Path = "/elsewhere" }), own, pvClash},
		{"not NFS: a clash", with(own, func(pv *corev1.PersistentVolume) {
			pv.Spec.NFS = nil
			pv.Spec.HostPath = &corev1.HostPathVolumeSource{Path: "/"}
		}), own, pvClash},
		{"a share made writable, now read-only, unbound: replaced", with(share, func(pv *corev1.PersistentVolume) { pv.Spec.NFS.ReadOnly = false }), share, pvReplace},
		{"a share with a stale mode that a claim holds: kept until the claim goes", with(share, func(pv *corev1.PersistentVolume) {
			pv.Spec.NFS.ReadOnly = false
			pv.Status.Phase = corev1.VolumeBound
		}), share, pvFine},
		{"released by a deleted claim: bound ahead to its successor", with(own, func(pv *corev1.PersistentVolume) {
			pv.Status.Phase = corev1.VolumeReleased
			pv.Spec.ClaimRef.UID = "old-claim"
		}), own, pvRebind},
		{"released but already bound ahead", with(own, func(pv *corev1.PersistentVolume) { pv.Status.Phase = corev1.VolumeReleased }), own, pvFine},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := persistentVolumeStep(tc.pv, tc.b); got != tc.want {
				t.Errorf("persistentVolumeStep = %d, want %d", got, tc.want)
			}
		})
	}
}

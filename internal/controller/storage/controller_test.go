package storage

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// A Storage's status lists its volumes, sorted, with their count; Ready says whether
// volumes are made there, and why not: an export overlapping an older one, or a Storage
// being deleted that waits for its volumes.
func TestComputeStatus(t *testing.T) {
	st := &doradev1.Storage{
		ObjectMeta: metav1.ObjectMeta{Name: "dora.storage.01", Generation: 2},
		Spec:       doradev1.StorageSpec{Endpoint: "10.10.10.1", Mountpath: "/dora-storage-01/share-01"},
	}
	older := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "old"}, Spec: doradev1.StorageSpec{Endpoint: "10.10.10.1", Mountpath: "/dora-storage-01"}}
	going := st.DeepCopy()
	going.DeletionTimestamp = &metav1.Time{}

	cases := []struct {
		name    string
		st      *doradev1.Storage
		overlap *doradev1.Storage
		volumes []string
		status  metav1.ConditionStatus
		reason  string
		msgHas  string
	}{
		{"ready with no volumes", st, nil, nil, metav1.ConditionTrue, doradev1.ReasonStorageReady, "below 10.10.10.1:/dora-storage-01/share-01"},
		{"ready with volumes, listed sorted", st, nil, []string{"b/home", "a/data"}, metav1.ConditionTrue, doradev1.ReasonStorageReady, ""},
		{"overlapping an older export", st, older, nil, metav1.ConditionFalse, doradev1.ReasonStorageOverlaps, "overlaps Storage old (10.10.10.1:/dora-storage-01)"},
		{"deleted, waiting for its volumes", going, nil, []string{"a/data"}, metav1.ConditionFalse, doradev1.ReasonStorageInUse, "waiting for its 1 volumes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := computeStatus(tc.st, tc.overlap, tc.volumes)
			if got.ObservedGeneration != 2 || got.VolumeCount != int32(len(tc.volumes)) {
				t.Errorf("observedGeneration %d volumeCount %d; want 2 and %d", got.ObservedGeneration, got.VolumeCount, len(tc.volumes))
			}
			if !slices.IsSorted(got.Volumes) || len(got.Volumes) != len(tc.volumes) {
				t.Errorf("volumes %v: want all of %v, sorted", got.Volumes, tc.volumes)
			}
			c := meta.FindStatusCondition(got.Conditions, doradev1.ConditionReady)
			if c == nil || c.Status != tc.status || c.Reason != tc.reason || !strings.Contains(c.Message, tc.msgHas) {
				t.Errorf("Ready = %+v; want %s/%s with %q", c, tc.status, tc.reason, tc.msgHas)
			}
		})
	}
}

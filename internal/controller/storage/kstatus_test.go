package storage

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// Every state a Storage takes, as kstatus reads the status the manager writes for it, and
// the Argo CD testdata (config/argocd/.../Storage/testdata/<argocd>.yaml) made of it. An
// export overlapping an older Storage's stays so until an administrator changes one of the
// two: Stalled, which kstatus reads as Failed.
func TestKStatus(t *testing.T) {
	older := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "dora.storage.00"}, Spec: doradev1.StorageSpec{Endpoint: "10.10.10.1", Mountpath: "/dora-storage-01"}}
	deleted := metav1.NewTime(time.Date(2026, 1, 5, 11, 0, 0, 0, time.UTC))
	cases := []struct {
		name     string
		overlap  *doradev1.Storage
		volumes  []string
		deleting bool
		behind   bool
		want     status.Status
		reason   string
		argocd   string
	}{
		{name: "ready", volumes: []string{"team.a/home", "team.a/scratch"}, want: status.CurrentStatus, argocd: "ready"},
		{name: "export overlaps an older storage", overlap: older, want: status.FailedStatus, reason: doradev1.ReasonStorageOverlaps, argocd: "overlaps"},
		{name: "the spec changed since the status was written", behind: true,
			want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "generation-behind"},
		{name: "being deleted, waiting for its volumes", volumes: []string{"team.a/home"}, deleting: true,
			want: status.TerminatingStatus, argocd: "in-use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &doradev1.Storage{
				ObjectMeta: metav1.ObjectMeta{Name: "dora.storage.01", Generation: 2},
				Spec:       doradev1.StorageSpec{Endpoint: "10.10.10.1", Mountpath: "/dora-storage-01/share-01", Kind: "NFS"},
			}
			if tc.deleting {
				st.DeletionTimestamp = &deleted
				st.Finalizers = []string{doradev1.FinalizerStorage}
			}
			st.Status = computeStatus(st, tc.overlap, tc.volumes)
			st.Status = computeStatus(st, tc.overlap, tc.volumes)
			if tc.behind {
				st.Generation++
			}
			res, err := gitops.KStatus(st)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%s), want %s; conditions %+v", res.Status, res.Message, tc.want, st.Status.Conditions)
			}
			if tc.reason != "" && (len(res.Conditions) == 0 || res.Conditions[0].Reason != tc.reason) {
				t.Errorf("kstatus conditions = %+v, want reason %s", res.Conditions, tc.reason)
			}
			if tc.argocd != "" {
				gitops.Golden(t, st, tc.argocd, "internal/controller/storage/kstatus_test.go ("+tc.name+")")
			}
		})
	}
}

package volume

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// Every state a volume takes, as kstatus reads the status the manager writes for it, and
// the Argo CD testdata (config/argocd/.../Volume/testdata/<argocd>.yaml) made of it.
//
// A volume waiting for something that comes by itself (its Storage, created in the same
// apply, the Job that makes its directory, its claim binding) is InProgress; one that
// cannot be made without someone changing something (its Storage being deleted, an
// overlapping export, a directory that cannot be computed or made, a name someone else
// holds) is Stalled, which kstatus reads as Failed.
func TestKStatus(t *testing.T) {
	dir := testDir(t)
	overlap := &doradev1.Storage{
		ObjectMeta: metav1.ObjectMeta{Name: "nfs-old"},
		Spec:       doradev1.StorageSpec{Endpoint: testServer, Mountpath: "/export"},
	}
	bound := observation{dir: dir, dirState: dirCreated, claim: claimIn(corev1.ClaimBound)}
	deleted := metav1.NewTime(time.Date(2026, 1, 5, 11, 0, 0, 0, time.UTC))

	cases := []struct {
		name string
		obs  observation
		// deleting, when set, is the deletingStatus reason and message of a volume being
		// deleted after it was bound.
		deleting, deleteMessage string
		behind                  bool
		want                    status.Status
		reason                  string
		argocd                  string
	}{
		{name: "storage missing", obs: observation{storageMissing: true},
			want: status.InProgressStatus, reason: doradev1.ReasonStorageNotFound, argocd: "storage-missing"},
		{name: "storage being deleted", obs: observation{storageDeleting: true},
			want: status.FailedStatus, reason: doradev1.ReasonStorageDeleting, argocd: "storage-deleting"},
		{name: "export overlaps an older storage", obs: observation{overlap: overlap},
			want: status.FailedStatus, reason: doradev1.ReasonDirectoryClash, argocd: "directory-clash"},
		{name: "no directory can be computed", obs: observation{invalid: "the directory /export/home/team.a/scratch is inside volume team-a/home's"},
			want: status.FailedStatus, reason: doradev1.ReasonDirectoryFailed},
		{name: "directory being made", obs: observation{dir: dir, dirState: dirPending},
			want: status.InProgressStatus, reason: doradev1.ReasonDirectoryPending, argocd: "directory-pending"},
		{name: "directory Job failed", obs: observation{dir: dir, dirState: dirFailed, dirMessage: "Job dora-mkdir-7f3a failed: mkdir: cannot create directory '/export/home/team.a': Permission denied; delete the Job to try again"},
			want: status.FailedStatus, reason: doradev1.ReasonDirectoryFailed, argocd: "directory-failed"},
		{name: "a name taken", obs: observation{dir: dir, dirState: dirCreated, clash: "PersistentVolume dora.team-a.scratch exists and is not this volume's"},
			want: status.FailedStatus, reason: doradev1.ReasonNameClash, argocd: "name-clash"},
		{name: "claim not bound yet", obs: observation{dir: dir, dirState: dirCreated, claim: claimIn(corev1.ClaimPending)},
			want: status.InProgressStatus, reason: doradev1.ReasonClaimPending, argocd: "claim-pending"},
		{name: "claim bound", obs: bound, want: status.CurrentStatus, argocd: "ready"},
		{name: "the spec changed since the status was written", obs: bound, behind: true,
			want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "generation-behind"},
		{name: "being deleted", obs: bound, deleting: doradev1.ReasonDeleting, deleteMessage: "a Job is removing " + testServer + ":" + testPath,
			want: status.TerminatingStatus, argocd: "deleting"},
		{name: "removing the data failed", obs: bound, deleting: doradev1.ReasonDeleteFailed, deleteMessage: "Job dora-rmdir-7f3a failed: rm: cannot remove '" + testPath + "': Permission denied",
			want: status.TerminatingStatus, argocd: "delete-failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vol := testVol()
			vol.Status = computeStatus(vol, tc.obs)
			vol.Status = computeStatus(vol, tc.obs)
			if tc.deleting != "" {
				vol.DeletionTimestamp = &deleted
				vol.Finalizers = []string{doradev1.FinalizerVolume}
				vol.Status = deletingStatus(vol, tc.deleting, tc.deleteMessage)
			}
			if tc.behind {
				vol.Generation++
			}
			res, err := gitops.KStatus(vol)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%s), want %s; conditions %+v", res.Status, res.Message, tc.want, vol.Status.Conditions)
			}
			if tc.reason != "" && (len(res.Conditions) == 0 || res.Conditions[0].Reason != tc.reason) {
				t.Errorf("kstatus conditions = %+v, want reason %s", res.Conditions, tc.reason)
			}
			if tc.argocd != "" {
				gitops.Golden(t, vol, tc.argocd, "internal/controller/volume/kstatus_test.go ("+tc.name+")")
			}
		})
	}
}

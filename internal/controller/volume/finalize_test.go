package volume

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/namespaces"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// madeVolume is the test volume with its directory made and recorded, under reclaimPolicy.
func madeVolume(t *testing.T, reclaimPolicy string) *doradev1.Volume {
	t.Helper()
	vol, dir := testVol(), testDir(t)
	vol.UID = "vol-uid"
	vol.Spec.ReclaimPolicy = reclaimPolicy
	vol.Status.Server, vol.Status.Path = dir.Server, dir.Path()
	meta.SetStatusCondition(&vol.Status.Conditions, metav1.Condition{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonDirectoryCreated})
	return vol
}

// A deleted volume's data goes only when it asked (reclaimPolicy Delete), its directory
// was made, and its Storage holds it; and never because its workspace goes, unless a
// removal had already started (which is finished, unless it failed).
func TestDecideData(t *testing.T) {
	st := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: testStorage}, Spec: doradev1.StorageSpec{Endpoint: testServer, Mountpath: "/export/home/"}}
	otherExport := st.DeepCopy()
	otherExport.Spec.Mountpath = "/export/other"
	going := namespaces.Going{Going: true, Why: "workspace team.a is being deleted"}
	deleteVol, retainVol := madeVolume(t, doradev1.VolumeReclaimDelete), madeVolume(t, doradev1.VolumeReclaimRetain)
	rmdir := func(cond batchv1.JobConditionType, edits ...func(*batchv1.Job)) *batchv1.Job {
		want, err := nfs.RmdirJob(helperInputs(testNamespace, testVolume, deleteVol.UID), *testDir(t))
		if err != nil {
			t.Fatal(err)
		}
		return jobIn(want, cond, edits...)
	}
	neverMade := testVol()
	neverMade.Spec.ReclaimPolicy = doradev1.VolumeReclaimDelete

	cases := []struct {
		name   string
		vol    *doradev1.Volume
		st     *doradev1.Storage
		going  namespaces.Going
		rmdir  *batchv1.Job
		remove bool
		keep   string
	}{
		{name: "never made: nothing to remove or keep", vol: neverMade, st: st},
		{name: "Retain keeps the data", vol: retainVol, st: st, keep: "reclaimPolicy is Retain"},
		{name: "Delete removes it", vol: deleteVol, st: st, remove: true},
		{name: "Storage gone: kept", vol: deleteVol, keep: "is gone"},
		{name: "Storage no longer holds the directory: kept", vol: deleteVol, st: otherExport, keep: "does not hold that directory"},
		{name: "workspace going: kept, never removed", vol: deleteVol, st: st, going: going, keep: "being deleted"},
		{name: "workspace going, removal already running: finished", vol: deleteVol, st: st, going: going, rmdir: rmdir(""), remove: true},
		{name: "workspace going, removal already done: finished", vol: deleteVol, st: st, going: going, rmdir: rmdir(batchv1.JobComplete), remove: true},
		{name: "workspace going, removal failed: not tried again", vol: deleteVol, st: st, going: going, rmdir: rmdir(batchv1.JobFailed), keep: "being deleted"},
		{name: "workspace going, a Job of that name not the manager's: kept", vol: deleteVol, st: st, going: going, rmdir: rmdir("", unmarked), keep: "being deleted"},
		{name: "workspace going, a removal an earlier volume of its name started: kept", vol: deleteVol, st: st, going: going, rmdir: rmdir("", ofEarlierVolume), keep: "being deleted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fate := decideData(tc.vol, tc.st, tc.going, tc.rmdir)
			if (fate.remove != nil) != tc.remove {
				t.Fatalf("remove = %v, want %v (keep %q)", fate.remove, tc.remove, fate.keep)
			}
			if tc.remove && fate.remove.Path() != testPath {
				t.Errorf("removes %s, want %s", fate.remove.Path(), testPath)
			}
			if (tc.keep == "") != (fate.keep == "") || !strings.Contains(fate.keep, tc.keep) {
				t.Errorf("keep = %q, want it to say %q", fate.keep, tc.keep)
			}
		})
	}
}

// The rmdir Job's progress is the deletion's: running is Deleting; done lets the finalizer
// go; a failure, or a Job of that name that is not this volume's removal, is DeleteFailed
// with the way out (delete the Job, or drop the finalizer to keep the data).
func TestRmdirProgress(t *testing.T) {
	vol, dir := madeVolume(t, doradev1.VolumeReclaimDelete), testDir(t)
	want, err := nfs.RmdirJob(helperInputs(testNamespace, testVolume, vol.UID), *dir)
	if err != nil {
		t.Fatal(err)
	}
	mkdir, err := nfs.MkdirJob(helperInputs(testNamespace, testVolume, vol.UID), *dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		job     *batchv1.Job
		done    bool
		reason  string
		msgHas  string
		replace bool
	}{
		{name: "just created", job: nil, reason: doradev1.ReasonDeleting, msgHas: "a Job is removing " + testServer + ":" + testPath},
		{name: "running", job: jobIn(want, ""), reason: doradev1.ReasonDeleting},
		{name: "succeeded", job: jobIn(want, batchv1.JobComplete), done: true},
		{name: "failed", job: jobIn(want, batchv1.JobFailed), reason: doradev1.ReasonDeleteFailed, msgHas: "remove the finalizer " + doradev1.FinalizerVolume},
		{name: "not the manager's", job: jobIn(want, batchv1.JobComplete, unmarked), reason: doradev1.ReasonDeleteFailed, msgHas: "is not this volume's removal"},
		{name: "for another volume", job: jobIn(want, batchv1.JobComplete, forOtherVolume), reason: doradev1.ReasonDeleteFailed, msgHas: "is not this volume's removal"},
		{name: "a mkdir Job of ours", job: jobIn(mkdir, batchv1.JobComplete), reason: doradev1.ReasonDeleteFailed, msgHas: "delete it"},
		{name: "ours, other work", job: jobIn(want, batchv1.JobComplete, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Env[0].Value = "/export/elsewhere" }),
			reason: doradev1.ReasonDeleteFailed, msgHas: "delete it"},
		{name: "left by an earlier volume of its name: replaced", job: jobIn(want, batchv1.JobFailed, ofEarlierVolume), reason: doradev1.ReasonDeleting, replace: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rmdirProgress(vol, *dir, tc.job, want)
			if got.done != tc.done || got.reason != tc.reason || got.replace != tc.replace || !strings.Contains(got.message, tc.msgHas) {
				t.Errorf("rmdirProgress = %+v; want done %v, reason %q, message with %q", got, tc.done, tc.reason, tc.msgHas)
			}
			if got.done && got.removed != testServer+":"+testPath {
				t.Errorf("removed = %q, want %s:%s", got.removed, testServer, testPath)
			}
		})
	}
}

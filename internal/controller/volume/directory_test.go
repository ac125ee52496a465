package volume

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

var exportStorage = &doradev1.Storage{
	ObjectMeta: metav1.ObjectMeta{Name: "nfs"},
	Spec:       doradev1.StorageSpec{Endpoint: "10.0.0.1", Mountpath: "/export"},
}

func mkdirFor(t *testing.T, workspace, volume string) (nfs.Directory, *doradev1.Volume) {
	t.Helper()
	vol := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: volume}}
	dir, err := nfs.VolumeDirectory(exportStorage, workspace, vol)
	if err != nil {
		t.Fatal(err)
	}
	return dir, vol
}

// A helper Job counts as doing the work asked for when its command, variables and exports
// are those asked for, whatever a mutating webhook added beside them; a Job for another
// directory does not, and is replaced.
func TestSameWorkIgnoresWhatOthersAdd(t *testing.T) {
	dir, _ := mkdirFor(t, "team.a", "data")
	want, err := nfs.MkdirJob(helperInputs("ns", "data", ""), dir)
	if err != nil {
		t.Fatal(err)
	}

	injected := want.DeepCopy()
	spec := &injected.Spec.Template.Spec
	spec.Containers[0].Env = append(spec.Containers[0].Env, corev1.EnvVar{Name: "HTTP_PROXY", Value: "proxy:3128"})
	spec.Containers = append(spec.Containers, corev1.Container{Name: "istio-proxy"})
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "injected"})
	if !sameWork(injected, want) {
		t.Error("a Job with an injected sidecar, variable and volume should still count as the same work")
	}

	otherDir, _ := mkdirFor(t, "team-a", "data")
	other, err := nfs.MkdirJob(helperInputs("ns", "data", ""), otherDir)
	if err != nil {
		t.Fatal(err)
	}
	if sameWork(other, want) {
		t.Error("a Job making another directory must not count as the same work")
	}

	otherServer := want.DeepCopy()
	otherServer.Spec.Template.Spec.Volumes[0].NFS.Server = "10.0.0.2"
	if sameWork(otherServer, want) {
		t.Error("a Job on another server must not count as the same work")
	}
}

// The directory a volume's status recorded is trusted only when its Storage holds it and it
// is that volume's.
func TestRecordedDirectoryMustBeTheVolumes(t *testing.T) {
	dir, vol := mkdirFor(t, "team.a", "data")
	vol.Status.Server, vol.Status.Path = dir.Server, dir.Path()
	if got, ok := recordedDirectory(exportStorage, vol); !ok || got.Path() != "/export/team.a/data" {
		t.Errorf("recordedDirectory = %s, %v; want /export/team.a/data", got.Path(), ok)
	}

	vol.Status.Path = "/export/team.a/other"
	if _, ok := recordedDirectory(exportStorage, vol); ok {
		t.Error("a recorded path that does not end in the volume's name must not be trusted")
	}
	vol.Status.Path = "/elsewhere/team.a/data"
	if _, ok := recordedDirectory(exportStorage, vol); ok {
		t.Error("a recorded path outside the Storage's export must not be trusted")
	}
	vol.Status.Server, vol.Status.Path = "10.9.9.9", dir.Path()
	if _, ok := recordedDirectory(exportStorage, vol); ok {
		t.Error("a recorded directory on another server must not be trusted")
	}
}

// helperInputs are the inputs of the helper Jobs of the volume namespace/name of UID uid,
// run in the manager's namespace.
func helperInputs(namespace, name string, uid types.UID) nfs.JobInputs {
	return nfs.JobInputs{Namespace: "dora-system", Volume: types.NamespacedName{Namespace: namespace, Name: name}, VolumeUID: uid}
}

// jobIn is want as the API server holds it, with the Job condition cond true ("" for a Job
// still running), changed by each of edits.
func jobIn(want *batchv1.Job, cond batchv1.JobConditionType, edits ...func(*batchv1.Job)) *batchv1.Job {
	job := want.DeepCopy()
	if cond != "" {
		job.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "exit code 1"}}
	}
	for _, edit := range edits {
		edit(job)
	}
	return job
}

// unmarked takes the manager's mark off a Job: one anyone could have made.
func unmarked(job *batchv1.Job) { delete(job.Labels, nfs.LabelManagedBy) }

// forOtherVolume makes a Job say it works for another volume.
func forOtherVolume(job *batchv1.Job) {
	job.Annotations[doradev1.AnnotationSourceVolume] = job.Labels[nfs.LabelVolumeNamespace] + "/other"
}

// ofEarlierVolume makes a Job one the manager made for an earlier Volume of the same name.
func ofEarlierVolume(job *batchv1.Job) { job.Labels[nfs.LabelVolumeUID] = "earlier-uid" }

// The mkdir Job's progress is the directory's: just made or running is pending, a finished
// one is created (and to be deleted once the status says so), a failed one is failed with
// what to do, one the manager did not make for this volume is refused, and one of ours
// doing other work, or left by an earlier Volume of this name, is replaced.
func TestMkdirProgress(t *testing.T) {
	dir, vol := mkdirFor(t, "team.a", "data")
	vol.UID = "vol-uid"
	want, err := nfs.MkdirJob(helperInputs("ns", "data", vol.UID), dir)
	if err != nil {
		t.Fatal(err)
	}
	otherDir, _ := mkdirFor(t, "team.b", "data")
	otherWork, err := nfs.MkdirJob(helperInputs("ns", "data", vol.UID), otherDir)
	if err != nil {
		t.Fatal(err)
	}
	rmdir, err := nfs.RmdirJob(helperInputs("ns", "data", vol.UID), dir)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		job     *batchv1.Job
		state   dirState
		msgHas  string
		doneJob bool
		replace bool
	}{
		{name: "just created", job: nil, state: dirPending},
		{name: "running", job: jobIn(want, ""), state: dirPending},
		{name: "succeeded: created, and the Job goes after the status write", job: jobIn(want, batchv1.JobComplete), state: dirCreated, doneJob: true},
		{name: "failed: says how to try again", job: jobIn(want, batchv1.JobFailed), state: dirFailed, msgHas: "delete the Job to try again"},
		{name: "for another volume: refused, never touched", job: jobIn(want, batchv1.JobComplete, forOtherVolume), state: dirFailed, msgHas: "is not this volume's"},
		{name: "not the manager's: refused", job: jobIn(want, "", unmarked), state: dirFailed, msgHas: "delete or rename it"},
		{name: "another kind of Job: refused", job: jobIn(rmdir, batchv1.JobComplete), state: dirFailed, msgHas: "is not this volume's"},
		{name: "left by an earlier volume of its name: replaced", job: jobIn(want, batchv1.JobComplete, ofEarlierVolume), state: dirPending, replace: true},
		{name: "ours for another directory: replaced", job: jobIn(otherWork, batchv1.JobComplete), state: dirPending, replace: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mkdirProgress(vol, tc.job, want)
			if got.state != tc.state || got.replace != tc.replace || (got.doneJob != nil) != tc.doneJob {
				t.Errorf("mkdirProgress = state %d replace %v doneJob %v; want state %d replace %v doneJob %v",
					got.state, got.replace, got.doneJob != nil, tc.state, tc.replace, tc.doneJob)
			}
			if !strings.Contains(got.message, tc.msgHas) {
				t.Errorf("message %q does not contain %q", got.message, tc.msgHas)
			}
		})
	}
}

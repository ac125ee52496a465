package volume

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// helperJobs are the mkdir and rmdir Jobs of volume (of the test namespace) of UID uid, in
// the manager's namespace, the rmdir one finished, each changed by edits.
func helperJobs(t *testing.T, volume string, uid types.UID, edits ...func(*batchv1.Job)) (mkdir, rmdir *batchv1.Job) {
	t.Helper()
	mkdir, err := nfs.MkdirJob(helperInputs(testNamespace, volume, uid), *testDir(t))
	if err != nil {
		t.Fatal(err)
	}
	rmdir, err = nfs.RmdirJob(helperInputs(testNamespace, volume, uid), *testDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return jobIn(mkdir, "", edits...), jobIn(rmdir, batchv1.JobComplete, edits...)
}

// A helper Job the manager made in its namespace brings its volume back to the
// controller; a copy Job (the workspace controller's), a Job anyone could have made, and
// one outside the manager's namespace do not.
func TestJobVolumeMapsTheManagersJobsToTheirVolume(t *testing.T) {
	r := &Reconciler{opts: Options{HelperNamespace: "dora-system"}}
	mkdir, rmdir := helperJobs(t, testVolume, "vol-uid")
	copyJob, err := nfs.CopyJob(helperInputs(testNamespace, testVolume, "vol-uid"), *testDir(t), *testDir(t))
	if err != nil {
		t.Fatal(err)
	}
	inTenant := jobIn(mkdir, "", func(j *batchv1.Job) { j.Namespace = testNamespace })
	self := []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: testNamespace, Name: testVolume}}}
	cases := map[string]struct {
		job  *batchv1.Job
		want []reconcile.Request
	}{
		"a mkdir Job":                   {job: mkdir, want: self},
		"an rmdir Job":                  {job: rmdir, want: self},
		"a copy Job":                    {job: copyJob},
		"a Job not the manager's":       {job: jobIn(mkdir, "", unmarked)},
		"a Job in a tenant's namespace": {job: inTenant},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, r.jobVolume(context.Background(), tc.job)); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
	if got := (&Reconciler{}).jobVolume(context.Background(), inTenant); cmp.Diff(self, got) != "" {
		t.Errorf("without a helper namespace the Jobs run beside their volume; got %v", got)
	}
}

// Nothing owns a helper Job, so the controller deletes a volume's Jobs itself: once its
// finalizer is released, and when the volume is gone. Jobs of other volumes, and Jobs
// of the name that the manager did not make, stay.
func TestAVolumeThatGoesLeavesNoHelperJob(t *testing.T) {
	ctx := ctrl.LoggerInto(context.Background(), ctrl.Log)
	deleting := testVol()
	deleting.UID = "vol-uid"
	deleting.Finalizers = []string{doradev1.FinalizerVolume}
	deleting.DeletionTimestamp = &metav1.Time{Time: metav1.Now().Time}
	mkdir, _ := helperJobs(t, testVolume, deleting.UID)
	_, foreignRmdir := helperJobs(t, testVolume, deleting.UID, unmarked)
	earlierMkdir, earlierRmdir := helperJobs(t, testVolume, "earlier-uid")
	foreignMkdir, _ := helperJobs(t, testVolume, "earlier-uid", unmarked)
	otherMkdir, otherRmdir := helperJobs(t, "other", "other-uid")

	cases := map[string]struct {
		objects []client.Object
		gone    []*batchv1.Job
	}{
		"a volume whose finalizer is released: its mkdir Job that never finished goes": {
			objects: []client.Object{deleting, mkdir, foreignRmdir, otherMkdir, otherRmdir},
			gone:    []*batchv1.Job{mkdir},
		},
		"a volume that is gone: its Jobs go, whichever Volume of its name made them": {
			objects: []client.Object{earlierMkdir, earlierRmdir, otherMkdir, otherRmdir},
			gone:    []*batchv1.Job{earlierMkdir, earlierRmdir},
		},
		"a volume that is gone: Jobs of its Jobs' names the manager did not make stay": {
			objects: []client.Object{foreignMkdir, foreignRmdir},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := testclient.Objects(tc.objects...)
			r := NewReconciler(c, c, events.NewFakeRecorder(10), Options{HelperNamespace: "dora-system"})
			req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: testNamespace, Name: testVolume}}
			if _, err := r.Reconcile(ctx, req); err != nil {
				t.Fatal(err)
			}
			if err := c.Get(ctx, req.NamespacedName, &doradev1.Volume{}); !apierrors.IsNotFound(err) {
				t.Errorf("the volume should be gone: %v", err)
			}
			gone := map[client.ObjectKey]bool{}
			for _, job := range tc.gone {
				gone[client.ObjectKeyFromObject(job)] = true
			}
			for _, obj := range tc.objects {
				job, ok := obj.(*batchv1.Job)
				if !ok {
					continue
				}
				err := c.Get(ctx, client.ObjectKeyFromObject(job), &batchv1.Job{})
				if gone[client.ObjectKeyFromObject(job)] != apierrors.IsNotFound(err) {
					t.Errorf("job %s/%s: deleted %v, want %v", job.Namespace, job.Name, apierrors.IsNotFound(err), gone[client.ObjectKeyFromObject(job)])
				}
			}
		})
	}
}

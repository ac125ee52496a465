package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// cloneSource makes a workspace with two volumes and a running workload that mounts one;
// their directories' Jobs run outside it.
func cloneSource(t *testing.T, name, storageName string) (string, []*doradev1.Volume, *doradev1.Workload) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, name)
	jobs := watchJobs(t, ns)
	var vols []*doradev1.Volume
	for _, v := range []string{"code", "data"} {
		vol := newVolume(ns, v, storageName)
		g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())
		vols = append(vols, vol)
	}
	wl := gpuWorkload(ns, "train.v100", 1, 0)
	wl.Spec.Volumes = []doradev1.WorkloadVolume{{Name: "data", Target: "/data"}}
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	for _, vol := range vols {
		expectVolumeReady(g, vol, "the source's volumes should be ready")
	}
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the source's workload should run")
	jobs.expectTenantUntouched(g, ns)
	return ns, vols, wl
}

func createClone(t *testing.T, name, from string, copyData bool) *doradev1.Workspace {
	t.Helper()
	ws := &doradev1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       doradev1.WorkspaceSpec{CloneFrom: from, CopyData: copyData},
	}
	NewWithT(t).Expect(k8sClient.Create(context.Background(), ws)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), ws) })
	return ws
}

func expectCloneComplete(g *WithT, ws *doradev1.Workspace, timeout time.Duration) {
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(ws), ws)).To(Succeed())
		g.Expect(ws.Status.Clone).NotTo(BeNil())
		cloned := meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceCloned)
		g.Expect(cloned).NotTo(BeNil())
		g.Expect(ws.Status.Clone.Phase).To(Equal(doradev1.CloneComplete), cloned.Message)
		g.Expect(cloned.Status).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(timeout).Should(Succeed(), "the clone should complete")
}

// A clone gets the source's volumes (new directories in its own workspace, with the data
// copied by a Job in the manager's namespace) and its workloads, paused; its status lists
// every object's outcome. Neither workspace's namespace ever holds a pod that mounts an
// export, and the copy Jobs go with the clone.
func TestCloneCopiesVolumesDataAndPausedWorkloads(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	st := nfsStorage(t, "e2e.nfs.clone", "10.30.0.1", "/exports/clone")
	srcNS, srcVols, srcWl := cloneSource(t, "e2e.clone.src", st.Name)

	cloneNS := naming.WorkspaceNamespace("e2e.clone.copy")
	jobs := watchJobs(t, cloneNS)
	ws := createClone(t, "e2e.clone.copy", "e2e.clone.src", true)
	expectCloneComplete(g, ws, 2*time.Minute)

	g.Expect(ws.Status.Clone.Source).To(Equal("e2e.clone.src"))
	g.Expect(ws.Status.Clone.CompletionTime).NotTo(BeNil())
	g.Expect(ws.Status.Clone.Objects).To(ConsistOf(
		HaveField("Name", "code"), HaveField("Name", "data"), HaveField("Name", "train.v100")))
	for _, o := range ws.Status.Clone.Objects {
		g.Expect(o.State).To(Equal(doradev1.CloneDone), "%s %s: %s", o.Kind, o.Name, o.Message)
	}

	for _, src := range srcVols {
		vol := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: cloneNS, Name: src.Name}}
		expectVolumeReady(g, vol, "the cloned volume should be ready")
		g.Expect(vol.Spec.Storage).To(Equal(src.Spec.Storage))
		g.Expect(vol.Status.Path).To(Equal("/exports/clone/e2e.clone.copy/"+src.Name), "the clone's volume is a new directory")
		g.Expect(vol.Status.Path).NotTo(Equal(src.Status.Path))
		g.Expect(vol.Annotations[doradev1.AnnotationClonedFrom]).To(Equal(src.Namespace + "/" + src.Name))

		job, completed := jobs.job(nfs.JobName(nfs.JobCopy, cloneNS, src.Name))
		g.Expect(job).NotTo(BeNil(), "a copy Job of %s should have run in the manager's namespace", src.Name)
		g.Expect(completed).To(BeTrue(), "the copy Job of %s should have completed", src.Name)
		g.Expect(job.Namespace).To(Equal(helperNamespace))
		g.Expect(job.Annotations).To(HaveKeyWithValue(doradev1.AnnotationSourceVolume, cloneNS+"/"+src.Name))
		g.Expect(metav1.IsControlledBy(job, ws)).To(BeTrue(), "the cluster-scoped workspace owns its copy Jobs")
		env := job.Spec.Template.Spec.Containers[0].Env
		g.Expect(env[0].Value).To(Equal("/from/e2e.clone.src/" + src.Name))
		g.Expect(env[1].Value).To(Equal("/to/e2e.clone.copy/" + src.Name))
	}

	wl := &doradev1.Workload{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: cloneNS, Name: srcWl.Name}, wl)).To(Succeed())
	g.Expect(wl.Spec.Paused).To(BeTrue(), "a cloned workload starts paused")
	g.Expect(wl.Spec.Volumes).To(Equal(srcWl.Spec.Volumes))
	expectPhase(g, wl, doradev1.WorkloadPhasePaused, "the cloned workload should stay paused")
	g.Expect(workloadPods(g, wl)).To(BeEmpty())
	jobs.expectTenantUntouched(g, cloneNS)
	expectNoExportMountedIn(g, srcNS)

	g.Expect(k8sClient.Delete(ctx, ws)).To(Succeed())
	g.Eventually(func(g Gomega) {
		left := &batchv1.JobList{}
		g.Expect(k8sClient.List(ctx, left, client.InNamespace(helperNamespace), client.MatchingLabels{nfs.LabelVolumeNamespace: cloneNS})).To(Succeed())
		g.Expect(left.Items).To(BeEmpty())
	}).WithTimeout(90*time.Second).Should(Succeed(), "the clone's helper Jobs should go with it")
}

// A manager stopped in the middle of a clone finishes it when it comes back, with exactly
// one copy of each object.
func TestCloneResumesAfterTheManagerRestarts(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	st := nfsStorage(t, "e2e.nfs.resume", "10.30.0.2", "/exports/resume")
	srcNS, _, _ := cloneSource(t, "e2e.resume.src", st.Name)

	ws := createClone(t, "e2e.resume.copy", "e2e.resume.src", true)
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)).To(Succeed())
		g.Expect(ws.Status.Clone).NotTo(BeNil())
		g.Expect(ws.Status.Clone.Phase).To(Equal(doradev1.CloneRunning))
	}).WithTimeout(time.Minute).WithPolling(20*time.Millisecond).Should(Succeed(), "the clone should start")
	g.Expect(testEnv.StopManager()).To(Succeed(), "stopping the manager mid-clone")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = testEnv.StartManager()
		}
	})
	g.Expect(ws.Status.Clone.Phase).To(Equal(doradev1.CloneRunning), "the manager should have been stopped mid-clone")
	g.Expect(testEnv.StartManager()).To(Succeed())
	restarted = true
	expectCloneComplete(g, ws, 2*time.Minute)

	cloneNS := naming.WorkspaceNamespace(ws.Name)
	for _, list := range []client.ObjectList{&doradev1.VolumeList{}, &doradev1.WorkloadList{}} {
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(srcNS))).To(Succeed())
		want := meta.LenList(list)
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(cloneNS))).To(Succeed())
		g.Expect(meta.LenList(list)).To(Equal(want), "the clone should hold exactly the source's objects")
	}
}

// Deleting a workspace stops its workloads first, then removes its volumes' claims, then
// its namespace; the volumes' data is never touched, even for a volume that asks for
// deletion on its own.
func TestWorkspaceDeletionStopsWorkloadsThenClaimsThenNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	st := nfsStorage(t, "e2e.nfs.teardown", "10.30.0.3", "/exports/teardown")
	ns := workspace(t, "e2e.teardown")
	jobs := watchJobs(t, ns)
	vol := newVolume(ns, "results", st.Name)
	vol.Spec.ReclaimPolicy = doradev1.VolumeReclaimDelete
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())
	wl := gpuWorkload(ns, "writer", 1, 0)
	wl.Spec.Volumes = []doradev1.WorkloadVolume{{Name: "results", Target: "/results"}}
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the workload should run")

	// A finalizer holds the pod, as a slow shutdown would.
	const hold = "e2e.dora.dev/hold"
	pod := &workloadPods(g, wl)[0]
	g.Expect(k8sClient.Patch(ctx, pod, client.RawPatch("application/merge-patch+json",
		[]byte(`{"metadata":{"finalizers":["`+hold+`"]}}`)))).To(Succeed())
	release := func() {
		_ = k8sClient.Patch(ctx, pod, client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`)))
	}
	t.Cleanup(release)

	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "e2e.teardown"}}
	g.Expect(k8sClient.Delete(ctx, ws)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)).To(Succeed())
		deleting := meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceDeleting)
		g.Expect(deleting).NotTo(BeNil())
		g.Expect(deleting.Reason).To(Equal(doradev1.ReasonStoppingWorkloads))
		g.Expect(deleting.Message).To(ContainSubstring("1 pods remain"))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the workspace should wait for its workloads' pods")

	claim := &corev1.PersistentVolumeClaim{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "results"}, claim)).To(Succeed())
	g.Expect(claim.DeletionTimestamp).To(BeNil(), "claims must stay while a pod may still write")
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(vol), vol)).To(Succeed())
	g.Expect(vol.DeletionTimestamp).To(BeNil(), "volumes must stay while a pod may still write")
	namespace := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, namespace)).To(Succeed())
	g.Expect(namespace.DeletionTimestamp).To(BeNil(), "the namespace goes last")

	release()
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)).To(Satisfy(apierrors.IsNotFound))
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(claim), claim)).To(Satisfy(apierrors.IsNotFound))
		err := k8sClient.Get(ctx, client.ObjectKey{Name: ns}, namespace)
		g.Expect(apierrors.IsNotFound(err) || namespace.DeletionTimestamp != nil).To(BeTrue(), "the namespace should be going")
	}).WithTimeout(90*time.Second).Should(Succeed(), "claims, then the namespace, then the workspace should go")
	rm, _ := jobs.job(nfs.JobName(nfs.JobRmdir, ns, "results"))
	g.Expect(rm).To(BeNil(), "deleting a workspace must never remove data, whatever its volumes' reclaimPolicy")
}

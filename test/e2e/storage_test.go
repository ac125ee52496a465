package e2e

import (
	"context"
	"slices"
	"sync"
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
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/nfs"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// nfsStorage creates a Storage on its own export.
func nfsStorage(t *testing.T, name, server, export string, options ...string) *doradev1.Storage {
	t.Helper()
	st := &doradev1.Storage{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       doradev1.StorageSpec{Endpoint: server, Mountpath: export, MountOptions: options},
	}
	NewWithT(t).Expect(k8sClient.Create(context.Background(), st)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), st) })
	return st
}

func newVolume(namespace, name, storageName string) *doradev1.Volume {
	return &doradev1.Volume{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       doradev1.VolumeSpec{Storage: storageName},
	}
}

// expectVolumeReady waits for the volume's claim to be bound (Ready=True/ClaimBound).
func expectVolumeReady(g *WithT, vol *doradev1.Volume, why string) {
	ready := expectVolumeReason(g, vol, doradev1.ReasonClaimBound, why)
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
}

// expectVolumeReason waits for the volume's Ready condition to have reason, and returns it.
func expectVolumeReason(g *WithT, vol *doradev1.Volume, reason, why string) *metav1.Condition {
	var ready *metav1.Condition
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(vol), vol)).To(Succeed())
		ready = meta.FindStatusCondition(vol.Status.Conditions, doradev1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(reason), ready.Message)
	}).WithTimeout(90*time.Second).Should(Succeed(), why)
	return ready
}

// helperNamespace is where the manager runs the helper Jobs that mount NFS exports: the
// harness starts it with its default namespace, which TestMain creates (the node agents keep
// their leases there too).
const helperNamespace = manager.DefaultNamespace

// jobWatch records, from before the test acts, every helper Job made for the volumes of a
// tenant's namespace (in the manager's namespace) and whether it completed: the manager
// deletes a finished Job soon after. It also records every Job, and every pod that mounts
// an NFS export, seen in the tenant's namespace itself: there must be none.
type jobWatch struct {
	mu        sync.Mutex
	completed map[string]bool
	seen      map[string]*batchv1.Job
	inTenant  []string
}

func watchJobs(t *testing.T, namespace string) *jobWatch {
	t.Helper()
	jw := &jobWatch{completed: map[string]bool{}, seen: map[string]*batchv1.Job{}}
	watch(t, &batchv1.JobList{}, func(obj client.Object) {
		job := obj.(*batchv1.Job)
		jw.seen[job.Name] = job.DeepCopy()
		if outcome, _ := nfs.Outcome(job); outcome == nfs.JobSucceeded {
			jw.completed[job.Name] = true
		}
	}, &jw.mu, client.InNamespace(helperNamespace), client.MatchingLabels{nfs.LabelVolumeNamespace: namespace})
	watch(t, &batchv1.JobList{}, func(obj client.Object) {
		jw.inTenant = append(jw.inTenant, "Job "+obj.GetName())
	}, &jw.mu, client.InNamespace(namespace))
	watch(t, &corev1.PodList{}, func(obj client.Object) {
		if mountsNFS(obj.(*corev1.Pod)) {
			jw.inTenant = append(jw.inTenant, "pod "+obj.GetName()+" mounting an NFS export")
		}
	}, &jw.mu, client.InNamespace(namespace))
	return jw
}

// watch calls record, under mu, with every object of list's kind the watch sees until the
// test ends.
func watch(t *testing.T, list client.ObjectList, record func(client.Object), mu *sync.Mutex, opts ...client.ListOption) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := k8sClient.(client.WithWatch).Watch(ctx, list, opts...)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			if obj, ok := ev.Object.(client.Object); ok && ev.Type != "ERROR" {
				mu.Lock()
				record(obj)
				mu.Unlock()
			}
		}
	}()
}

func (jw *jobWatch) job(name string) (*batchv1.Job, bool) {
	jw.mu.Lock()
	defer jw.mu.Unlock()
	return jw.seen[name], jw.completed[name]
}

// expectTenantUntouched checks that the tenant's namespace never held a Job nor a pod that
// mounts an NFS export (helper Jobs mount an export's root: a tenant could reach every
// workspace's data through one), and holds none now.
func (jw *jobWatch) expectTenantUntouched(g *WithT, namespace string) {
	jw.mu.Lock()
	seen := slices.Clone(jw.inTenant)
	jw.mu.Unlock()
	g.Expect(seen).To(BeEmpty(), "namespace %s must never hold a helper Job or a pod mounting an export", namespace)
	expectNoExportMountedIn(g, namespace)
}

// expectNoExportMountedIn checks that namespace holds no Job and no pod with an NFS volume:
// workload pods reach their data through claims, bound to one directory each.
func expectNoExportMountedIn(g *WithT, namespace string) {
	ctx := context.Background()
	jobs := &batchv1.JobList{}
	g.Expect(k8sClient.List(ctx, jobs, client.InNamespace(namespace))).To(Succeed())
	g.Expect(jobs.Items).To(BeEmpty(), "no Job may run in the tenant namespace %s", namespace)
	pods := &corev1.PodList{}
	g.Expect(k8sClient.List(ctx, pods, client.InNamespace(namespace))).To(Succeed())
	for i := range pods.Items {
		g.Expect(mountsNFS(&pods.Items[i])).To(BeFalse(), "pod %s/%s mounts an NFS export directly", namespace, pods.Items[i].Name)
	}
}

func mountsNFS(pod *corev1.Pod) bool {
	return slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.NFS != nil })
}

// A Volume gets its directory from a mkdir Job that mounts the export root, then an NFS
// PersistentVolume on <mountpath>/<workspace>/<volume> (ReadWriteMany, Retain, the Storage's
// mount options) and a claim bound to exactly it. The Storage lists the volume.
func TestVolumeIsABoundClaimOnItsNFSDirectory(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.vol.bind")
	jobs := watchJobs(t, ns)
	st := nfsStorage(t, "e2e.nfs.bind", "10.20.0.1", "/exports/bind", "nfsvers=4.1", "hard")
	vol := newVolume(ns, "home", st.Name)
	vol.Spec.Subpath = "data"
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())

	expectVolumeReady(g, vol, "the volume's claim should be bound")
	const wantPath = "/exports/bind/e2e.vol.bind/home/data"
	g.Expect(vol.Status.Server).To(Equal("10.20.0.1"))
	g.Expect(vol.Status.Path).To(Equal(wantPath))
	g.Expect(vol.Status.ClaimName).To(Equal("home"))
	g.Expect(meta.IsStatusConditionTrue(vol.Status.Conditions, doradev1.VolumeDirectoryReady)).To(BeTrue())

	pv := &corev1.PersistentVolume{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: vol.Status.PersistentVolumeName}, pv)).To(Succeed())
	g.Expect(pv.Spec.NFS).NotTo(BeNil(), "the PV should be an NFS volume")
	g.Expect(pv.Spec.NFS.Server).To(Equal("10.20.0.1"))
	g.Expect(pv.Spec.NFS.Path).To(Equal(wantPath))
	g.Expect(pv.Spec.AccessModes).To(ConsistOf(corev1.ReadWriteMany))
	g.Expect(pv.Spec.PersistentVolumeReclaimPolicy).To(Equal(corev1.PersistentVolumeReclaimRetain))
	g.Expect(pv.Spec.MountOptions).To(Equal([]string{"nfsvers=4.1", "hard"}))
	g.Expect(pv.Status.Phase).To(Equal(corev1.VolumeBound))

	claim := &corev1.PersistentVolumeClaim{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "home"}, claim)).To(Succeed())
	g.Expect(claim.Status.Phase).To(Equal(corev1.ClaimBound))
	g.Expect(claim.Spec.VolumeName).To(Equal(pv.Name), "the claim should be bound to exactly the volume's PV")
	g.Expect(metav1.IsControlledBy(claim, vol)).To(BeTrue())

	job, completed := jobs.job(nfs.JobName(nfs.JobMkdir, ns, "home"))
	g.Expect(job).NotTo(BeNil(), "a mkdir Job should have run in the manager's namespace")
	g.Expect(completed).To(BeTrue(), "the mkdir Job should have completed")
	g.Expect(job.Namespace).To(Equal(helperNamespace))
	g.Expect(job.Annotations).To(HaveKeyWithValue(doradev1.AnnotationSourceVolume, ns+"/home"))
	g.Expect(job.OwnerReferences).To(BeEmpty(), "a Volume of another namespace cannot own the Job")
	nfs := job.Spec.Template.Spec.Volumes[0].NFS
	g.Expect(nfs).NotTo(BeNil())
	g.Expect(nfs.Server).To(Equal("10.20.0.1"))
	g.Expect(nfs.Path).To(Equal("/exports/bind"), "the Job should mount the export root: the directory does not exist yet")
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(job), &batchv1.Job{}))
	}).WithTimeout(30*time.Second).Should(BeTrue(), "the finished mkdir Job should be cleaned up")
	jobs.expectTenantUntouched(g, ns)

	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(st), st)).To(Succeed())
		g.Expect(st.Status.Volumes).To(Equal([]string{"e2e.vol.bind/home"}))
		g.Expect(meta.IsStatusConditionTrue(st.Status.Conditions, doradev1.ConditionReady)).To(BeTrue())
	}).WithTimeout(30*time.Second).Should(Succeed(), "the Storage should list its volume")
}

// A Volume naming a Storage that does not exist says so, and is made once it appears.
func TestVolumeWaitsForItsStorage(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.vol.nostorage")
	vol := newVolume(ns, "scratch", "e2e.nfs.later")
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())
	cond := expectVolumeReason(g, vol, doradev1.ReasonStorageNotFound, "a missing storage should be reported")
	g.Expect(cond.Message).To(ContainSubstring("Storage e2e.nfs.later does not exist"))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "scratch"}, &corev1.PersistentVolumeClaim{})).
		To(Satisfy(apierrors.IsNotFound), "no claim is made without a storage")

	nfsStorage(t, "e2e.nfs.later", "10.20.0.2", "/exports/later")
	expectVolumeReady(g, vol, "the volume should be made once its storage exists")
	g.Expect(vol.Status.Path).To(Equal("/exports/later/e2e.vol.nostorage/scratch"))
}

// A directory Job that fails (here: an export that refuses it; the simulated cluster fails
// helper pods on the server nfs.unreachable.invalid with exit code 1) is the condition
// DirectoryFailed with the Job's own reason, and no PersistentVolume is made.
func TestFailedDirectoryJobIsReportedWithItsReason(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.vol.fail")
	jobs := watchJobs(t, ns)
	st := nfsStorage(t, "e2e.nfs.fail", "nfs.unreachable.invalid", "/exports/fail")
	vol := newVolume(ns, "broken", st.Name)
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())

	cond := expectVolumeReason(g, vol, doradev1.ReasonDirectoryFailed, "the failed Job should be reported")
	job := nfs.JobName(nfs.JobMkdir, ns, "broken")
	g.Expect(cond.Message).To(ContainSubstring("Job "+job+" failed (PodFailurePolicy)"), "the Job's own reason")
	g.Expect(cond.Message).To(ContainSubstring("exit code 1"))
	g.Expect(cond.Message).To(ContainSubstring("kubectl logs -n " + helperNamespace + " job/" + job))
	g.Expect(cond.Message).To(HaveSuffix("delete the Job to try again"))
	dirCond := meta.FindStatusCondition(vol.Status.Conditions, doradev1.VolumeDirectoryReady)
	g.Expect(dirCond).NotTo(BeNil())
	g.Expect(dirCond.Reason).To(Equal(doradev1.ReasonDirectoryFailed))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: nfs.PersistentVolumeName(ns, "broken")}, &corev1.PersistentVolume{})).
		To(Satisfy(apierrors.IsNotFound), "no PV for a directory that does not exist")
	expectEvent(g, ns, "broken", doradev1.ReasonDirectoryFailed)
	failed := &batchv1.Job{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: helperNamespace, Name: job}, failed)).To(Succeed(), "the failed Job stays, for its logs")
	jobs.expectTenantUntouched(g, ns)

	// Nothing owns the Job: the manager deletes it once the volume goes.
	g.Expect(k8sClient.Delete(ctx, vol)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(vol), &doradev1.Volume{})).To(Satisfy(apierrors.IsNotFound))
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(failed), &batchv1.Job{})).To(Satisfy(apierrors.IsNotFound))
	}).WithTimeout(60*time.Second).Should(Succeed(), "the volume and its failed mkdir Job should go")
}

// A PersistentVolume of the name a volume needs, made by someone else, is reported and left
// untouched.
func TestPersistentVolumeNameClashIsReportedNotTakenOver(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.vol.clash")
	st := nfsStorage(t, "e2e.nfs.clash", "10.20.0.3", "/exports/clash")
	foreign := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: nfs.PersistentVolumeName(ns, "results")},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: nfs.NominalCapacity},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "elsewhere", Path: "/other"}},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		},
	}
	g.Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, foreign) })

	vol := newVolume(ns, "results", st.Name)
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())
	cond := expectVolumeReason(g, vol, doradev1.ReasonNameClash, "the clash should be reported")
	g.Expect(cond.Message).To(ContainSubstring("is not this volume's"))
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), foreign)).To(Succeed())
	g.Expect(foreign.Spec.NFS.Server).To(Equal("elsewhere"), "the foreign PV must be left as it was")
	g.Expect(foreign.Spec.ClaimRef).To(BeNil())
}

// Two Storages on one server whose exports nest could give two volumes one directory: the
// younger is refused, and so are the volumes on it.
func TestOverlappingStorageIsRefused(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.vol.overlap")
	// Created in one second, the two are ordered by name: a first, b second.
	nfsStorage(t, "e2e.nfs.overlap-a", "10.20.0.4", "/exports/outer")
	inner := nfsStorage(t, "e2e.nfs.overlap-b", "10.20.0.4", "/exports/outer/e2e.vol.overlap")
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inner), inner)).To(Succeed())
		ready := meta.FindStatusCondition(inner.Status.Conditions, doradev1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Message).To(ContainSubstring("overlaps Storage e2e.nfs.overlap-a"))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the younger storage should be refused")

	vol := newVolume(ns, "nested", inner.Name)
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())
	expectVolumeReason(g, vol, doradev1.ReasonDirectoryClash, "a volume on an overlapping storage should not be made")
}

// A readonly volume is mounted read-only by every workload pod, even one that asked for
// read-write.
func TestReadonlyVolumeMountsReadOnly(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.vol.ro")
	st := nfsStorage(t, "e2e.nfs.ro", "10.20.0.5", "/exports/ro")
	vol := newVolume(ns, "reference", st.Name)
	vol.Spec.Policy = doradev1.VolumeReadOnly
	g.Expect(k8sClient.Create(ctx, vol)).To(Succeed())

	wl := gpuWorkload(ns, "reader", 1, 0)
	wl.Spec.Volumes = []doradev1.WorkloadVolume{{Name: "reference", Target: "/ref"}}
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the workload should run once the volume is bound")

	pods := workloadPods(g, wl)
	g.Expect(pods).To(HaveLen(1))
	expectMount(g, &pods[0], "/ref", "reference", true)
}

// expectMount checks that pod mounts claim at target, read-only or not.
func expectMount(g *WithT, pod *corev1.Pod, target, claim string, readOnly bool) {
	var volName string
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if m.MountPath == target {
			volName = m.Name
			g.Expect(m.ReadOnly).To(Equal(readOnly), "mount %s read-only", target)
		}
	}
	g.Expect(volName).NotTo(BeEmpty(), "the pod should mount %s", target)
	for _, v := range pod.Spec.Volumes {
		if v.Name == volName {
			g.Expect(v.PersistentVolumeClaim).NotTo(BeNil())
			g.Expect(v.PersistentVolumeClaim.ClaimName).To(Equal(claim))
			g.Expect(v.PersistentVolumeClaim.ReadOnly).To(Equal(readOnly))
		}
	}
}

// A workload that mounts another workspace's volume gets its own PersistentVolume and claim
// in its own namespace, on the same NFS directory, read-only unless the volume invites
// writers. The claim goes with the last workload that mounts it.
func TestCrossWorkspaceVolumeGetsItsOwnClaimOnTheSamePath(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	datasets := workspace(t, "e2e.datasets")
	user := workspace(t, "e2e.user")
	st := nfsStorage(t, "e2e.nfs.shared", "10.20.0.6", "/exports/shared")
	imagenet := newVolume(datasets, "imagenet", st.Name)
	scratch := newVolume(datasets, "scratch", st.Name)
	scratch.Spec.SharedWriters = true
	g.Expect(k8sClient.Create(ctx, imagenet)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, scratch)).To(Succeed())
	expectVolumeReady(g, imagenet, "the source volume should be ready")

	wl := gpuWorkload(user, "train", 1, 0)
	wl.Spec.Volumes = []doradev1.WorkloadVolume{
		{Name: "imagenet", Workspace: "e2e.datasets", Target: "/imagenet"},
		{Name: "scratch", Group: "e2e.datasets", Target: "/scratch"},
	}
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the workload should run once its claims are bound")

	claimName := podspec.ClaimName(user, wl.Spec.Volumes[0])
	claim := &corev1.PersistentVolumeClaim{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: user, Name: claimName}, claim)).To(Succeed())
	g.Expect(claim.Status.Phase).To(Equal(corev1.ClaimBound))
	own := &corev1.PersistentVolume{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: imagenet.Status.PersistentVolumeName}, own)).To(Succeed())
	shared := &corev1.PersistentVolume{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: claim.Spec.VolumeName}, shared)).To(Succeed())
	g.Expect(shared.Name).NotTo(Equal(own.Name), "the other workspace gets a PV of its own")
	g.Expect(shared.Spec.NFS.Server).To(Equal(own.Spec.NFS.Server), "both PVs reach the same NFS directory")
	g.Expect(shared.Spec.NFS.Path).To(Equal(own.Spec.NFS.Path), "both PVs reach the same NFS directory")
	g.Expect(shared.Spec.NFS.ReadOnly).To(BeTrue(), "another workspace's PV is read-only at the NFS level unless the volume invites writers")
	g.Expect(own.Spec.NFS.ReadOnly).To(BeFalse())
	scratchClaim := &corev1.PersistentVolumeClaim{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: user, Name: podspec.ClaimName(user, wl.Spec.Volumes[1])}, scratchClaim)).To(Succeed())
	scratchPV := &corev1.PersistentVolume{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: scratchClaim.Spec.VolumeName}, scratchPV)).To(Succeed())
	g.Expect(scratchPV.Spec.NFS.ReadOnly).To(BeFalse(), "sharedWriters lets other workspaces write")
	g.Expect(shared.Spec.ClaimRef.Namespace).To(Equal(user))

	pods := workloadPods(g, wl)
	g.Expect(pods).To(HaveLen(1))
	expectMount(g, &pods[0], "/imagenet", claimName, true)
	expectMount(g, &pods[0], "/scratch", podspec.ClaimName(user, wl.Spec.Volumes[1]), false)

	g.Expect(k8sClient.Delete(ctx, wl)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: shared.Name}, &corev1.PersistentVolume{}))
	}).WithTimeout(60*time.Second).Should(BeTrue(), "the shared claim and its PV should go with the last workload mounting it")
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: own.Name}, own)).To(Succeed(), "the source's own PV stays")
}

// Deleting a Volume removes its claim and PersistentVolume; the data stays unless the
// volume asked for deletion, in which case a Job removes the directory first.
func TestDeletingAVolumeKeepsItsDataUnlessAsked(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.vol.delete")
	jobs := watchJobs(t, ns)
	st := nfsStorage(t, "e2e.nfs.delete", "10.20.0.7", "/exports/delete")
	kept := newVolume(ns, "kept", st.Name)
	removed := newVolume(ns, "removed", st.Name)
	removed.Spec.ReclaimPolicy = doradev1.VolumeReclaimDelete
	g.Expect(k8sClient.Create(ctx, kept)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, removed)).To(Succeed())
	expectVolumeReady(g, kept, "the kept volume should be ready")
	expectVolumeReady(g, removed, "the removed volume should be ready")

	for _, vol := range []*doradev1.Volume{kept, removed} {
		pvName := vol.Status.PersistentVolumeName
		g.Expect(k8sClient.Delete(ctx, vol)).To(Succeed())
		g.Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(vol), &doradev1.Volume{})).To(Satisfy(apierrors.IsNotFound))
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: vol.Name}, &corev1.PersistentVolumeClaim{})).To(Satisfy(apierrors.IsNotFound))
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pvName}, &corev1.PersistentVolume{})).To(Satisfy(apierrors.IsNotFound))
		}).WithTimeout(60*time.Second).Should(Succeed(), "volume %s, its claim and its PV should be gone", vol.Name)
	}

	rm, completed := jobs.job(nfs.JobName(nfs.JobRmdir, ns, "removed"))
	g.Expect(rm).NotTo(BeNil(), "reclaimPolicy Delete should run a Job removing the directory, in the manager's namespace")
	g.Expect(completed).To(BeTrue())
	g.Expect(rm.Namespace).To(Equal(helperNamespace))
	g.Expect(rm.Spec.Template.Spec.Containers[0].Env[0].Value).To(Equal("/export/e2e.vol.delete/removed"))
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(rm), &batchv1.Job{}))
	}).WithTimeout(30*time.Second).Should(BeTrue(), "nothing owns the rmdir Job: the manager deletes it with the volume")
	keptRm, _ := jobs.job(nfs.JobName(nfs.JobRmdir, ns, "kept"))
	g.Expect(keptRm).To(BeNil(), "a Retain volume's data must never be touched")
	expectEvent(g, ns, "kept", "DataKept")
	jobs.expectTenantUntouched(g, ns)
}

// expectEvent waits for an event of reason about the named object in namespace.
func expectEvent(g *WithT, namespace, name, reason string) {
	g.Eventually(func(g Gomega) {
		events := &corev1.EventList{}
		g.Expect(k8sClient.List(context.Background(), events, client.InNamespace(namespace))).To(Succeed())
		var reasons []string
		for _, e := range events.Items {
			if e.InvolvedObject.Name == name {
				reasons = append(reasons, e.Reason)
			}
		}
		g.Expect(reasons).To(ContainElement(reason))
	}).WithTimeout(30*time.Second).Should(Succeed(), "an event %s about %s", reason, name)
}

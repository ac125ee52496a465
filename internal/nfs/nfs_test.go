package nfs

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func seedStorage() *doradev1.Storage {
	return &doradev1.Storage{
		ObjectMeta: metav1.ObjectMeta{Name: "dora.storage.01"},
		Spec:       doradev1.StorageSpec{Endpoint: "10.10.10.1", Mountpath: "/dora-storage-01/share-01", MountOptions: []string{"nfsvers=4.1"}},
	}
}

func volume(name, subpath string) *doradev1.Volume {
	return &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: doradev1.VolumeSpec{Subpath: subpath}}
}

func TestVolumeDirectoryIsMountpathWorkspaceVolumeSubpath(t *testing.T) {
	cases := []struct {
		workspace, volume, subpath string
		want                       string
	}{
		{"amedeo.setti", "home", "", "/dora-storage-01/share-01/amedeo.setti/home"},
		{"datasets", "imagenetpytorch", "", "/dora-storage-01/share-01/datasets/imagenetpytorch"},
		{"datasets", "imagenet", "train/2012", "/dora-storage-01/share-01/datasets/imagenet/train/2012"},
		{"datasets", "imagenet", "train/./2012/", "/dora-storage-01/share-01/datasets/imagenet/train/2012"},
	}
	for _, c := range cases {
		dir, err := VolumeDirectory(seedStorage(), c.workspace, volume(c.volume, c.subpath))
		if err != nil {
			t.Fatalf("%s/%s: %v", c.workspace, c.volume, err)
		}
		if dir.Path() != c.want || dir.Server != "10.10.10.1" {
			t.Errorf("%s/%s subpath %q: got %s:%s, want 10.10.10.1:%s", c.workspace, c.volume, c.subpath, dir.Server, dir.Path(), c.want)
		}
	}
}

func TestVolumeDirectoryRefusesPathsLeavingTheVolume(t *testing.T) {
	for _, sub := range []string{"/etc", "../other", "a/../../other"} {
		if dir, err := VolumeDirectory(seedStorage(), "ws", volume("v", sub)); err == nil {
			t.Errorf("subpath %q gave %s, want an error", sub, dir.Path())
		} else if !strings.Contains(err.Error(), "spec.subpath") {
			t.Errorf("subpath %q: error %q does not name spec.subpath", sub, err)
		}
	}
}

func TestOverlapFindsAnOlderStorageSharingTheTree(t *testing.T) {
	at := func(name, endpoint, mountpath string, minute int) doradev1.Storage {
		return doradev1.Storage{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC))},
			Spec:       doradev1.StorageSpec{Endpoint: endpoint, Mountpath: mountpath},
		}
	}
	first := at("first", "nfs1", "/export", 0)
	cases := []struct {
		name  string
		st    doradev1.Storage
		want  string
		about string
	}{
		{"inside an older export", at("inner", "nfs1", "/export/team", 1), "first", "its volumes' directories can equal first's"},
		{"the same export", at("same", "NFS1", "/export/", 1), "first", "server names compare without case, paths cleaned"},
		{"around an older export", at("outer", "nfs1", "/", 1), "first", "the root holds every path"},
		{"a sibling path", at("sibling", "nfs1", "/exported", 1), "", "/exported is not inside /export"},
		{"another server", at("other", "nfs2", "/export", 1), "", "different servers never meet"},
		{"the oldest of the two", first, "", "the oldest keeps working"},
	}
	for _, c := range cases {
		got := Overlap(&c.st, []doradev1.Storage{first, c.st})
		name := ""
		if got != nil {
			name = got.Name
		}
		if name != c.want {
			t.Errorf("%s: Overlap = %q, want %q (%s)", c.name, name, c.want, c.about)
		}
	}
}

func TestPersistentVolumeNamesNeverMeet(t *testing.T) {
	seen := map[string]string{}
	for _, pair := range [][2]string{{"a", "b.c"}, {"a-b", "c"}, {"a", "b-c"}, {"amedeo-setti", "home"}, {"amedeo-setti", strings.Repeat("x", 253)}, {"amedeo-setti", strings.Repeat("x", 252) + "y"}} {
		name := PersistentVolumeName(pair[0], pair[1])
		if len(name) > 253 {
			t.Errorf("%v: %d characters", pair, len(name))
		}
		if prev, ok := seen[name]; ok {
			t.Errorf("%v and %s both get %s", pair, prev, name)
		}
		seen[name] = pair[0] + "/" + pair[1]
	}
	if got := PersistentVolumeName("amedeo-setti", "home"); got != "dora.amedeo-setti.home" {
		t.Errorf("PersistentVolumeName = %s, want dora.amedeo-setti.home", got)
	}
}

func TestBindingIsAnNFSVolumeBoundAheadToItsClaim(t *testing.T) {
	dir, err := VolumeDirectory(seedStorage(), "datasets", volume("imagenetpytorch", ""))
	if err != nil {
		t.Fatal(err)
	}
	b := Binding{
		Source: types.NamespacedName{Namespace: "datasets", Name: "imagenetpytorch"},
		Claim:  types.NamespacedName{Namespace: "amedeo-setti", Name: "shared.datasets.imagenetpytorch.1234abcd"},
		Dir:    dir,
	}
	pv := b.PersistentVolume()
	if pv.Spec.NFS == nil || pv.Spec.NFS.Server != "10.10.10.1" || pv.Spec.NFS.Path != "/dora-storage-01/share-01/datasets/imagenetpytorch" {
		t.Errorf("NFS source = %+v", pv.Spec.NFS)
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("reclaim policy %s, want Retain: deleting the PV must never touch the data", pv.Spec.PersistentVolumeReclaimPolicy)
	}
	if len(pv.Spec.AccessModes) != 1 || pv.Spec.AccessModes[0] != corev1.ReadWriteMany {
		t.Errorf("access modes %v, want ReadWriteMany", pv.Spec.AccessModes)
	}
	if ref := pv.Spec.ClaimRef; ref == nil || ref.Namespace != "amedeo-setti" || ref.Name != b.Claim.Name {
		t.Errorf("claimRef %+v, want the claim", ref)
	}
	if len(pv.Spec.MountOptions) != 1 || pv.Spec.MountOptions[0] != "nfsvers=4.1" {
		t.Errorf("mount options %v, want the Storage's", pv.Spec.MountOptions)
	}
	if !ReachesDirectory(pv, b.Source) || ReachesDirectory(pv, types.NamespacedName{Namespace: "datasets", Name: "other"}) {
		t.Error("ReachesDirectory does not recognise the PV's source")
	}

	claim := Claim(b.Source, b.Claim)
	if claim.Spec.VolumeName != pv.Name {
		t.Errorf("claim names volume %q, want %q", claim.Spec.VolumeName, pv.Name)
	}
	if claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName != "" {
		t.Error("the claim must set storageClassName \"\" so no default class provisions it")
	}
	if claim.Labels[doradev1.LabelVolume] != "imagenetpytorch" || pv.Labels[doradev1.LabelVolume] != "imagenetpytorch" {
		t.Error("PV and claim must carry dora.dev/volume: the manager caches only labelled ones")
	}
	if claim.Spec.Resources.Requests.Storage().Cmp(*pv.Spec.Capacity.Storage()) > 0 {
		t.Error("the claim asks for more than the PV offers and would never bind")
	}
}

// Every workspace's helper Jobs share the manager's namespace: their names are DNS labels
// (their pods' job-name label allows 63 characters) that never meet, across namespaces and
// across names that differ only in punctuation.
func TestJobNamesAreLabelsAndDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, pair := range [][2]string{
		{"team-a", "blue.red"}, {"team-a", "blue-red"}, {"team-b", "blue.red"},
		{"a-b", "c"}, {"a", "b-c"}, {"team-a", strings.Repeat("v", 253)}, {strings.Repeat("n", 63), strings.Repeat("v", 252) + "w"},
	} {
		name := JobName(JobMkdir, pair[0], pair[1])
		if len(name) > 63 || !naming.IsObjectName(name) || strings.Contains(name, ".") {
			t.Errorf("%v: job name %s is not a DNS label of at most 63 characters", pair, name)
		}
		if prev, ok := seen[name]; ok {
			t.Errorf("%v and %s share the job name %s", pair, prev, name)
		}
		seen[name] = pair[0] + "/" + pair[1]
	}
	if got := JobName(JobRmdir, "amedeo-setti", "home"); !strings.HasPrefix(got, "rmdir-amedeo-setti-home-") {
		t.Errorf("JobName = %s, want it to start with rmdir-amedeo-setti-home-", got)
	}
}

// A helper Job says which Volume it works for in its labels and annotation, since no owner
// reference can reach a Volume from the manager's namespace; a Job not marked as the
// manager's, or whose marks disagree, says nothing.
func TestHelperJobsNameTheirVolume(t *testing.T) {
	dir, err := VolumeDirectory(seedStorage(), "amedeo.setti", volume("home", ""))
	if err != nil {
		t.Fatal(err)
	}
	home := types.NamespacedName{Namespace: "amedeo-setti", Name: "home"}
	job, err := MkdirJob(JobInputs{Namespace: "dora-system", Volume: home, VolumeUID: "home-uid"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if job.Namespace != "dora-system" || job.Name != JobName(JobMkdir, "amedeo-setti", "home") {
		t.Errorf("job %s/%s, want it in the namespace it was given, named for its volume", job.Namespace, job.Name)
	}
	want := JobTarget{Kind: JobMkdir, Volume: home, UID: "home-uid"}
	if got, ok := TargetOf(job); !ok || got != want {
		t.Errorf("TargetOf = %+v, %v; want %+v", got, ok, want)
	}
	if job.Annotations[doradev1.AnnotationSourceVolume] != "amedeo-setti/home" {
		t.Errorf("annotations %v, want %s=amedeo-setti/home", job.Annotations, doradev1.AnnotationSourceVolume)
	}
	if pod := job.Spec.Template.Labels; pod[LabelVolumeNamespace] != "amedeo-setti" || pod[LabelJob] != JobMkdir {
		t.Errorf("pod labels %v, want the Job's", pod)
	}

	unmarked := job.DeepCopy()
	delete(unmarked.Labels, LabelManagedBy)
	otherNamespace := job.DeepCopy()
	otherNamespace.Labels[LabelVolumeNamespace] = "someone-else"
	noVolume := job.DeepCopy()
	noVolume.Annotations = nil
	for name, j := range map[string]*batchv1.Job{"unmarked": unmarked, "labels and annotation disagree": otherNamespace, "no volume": noVolume} {
		if got, ok := TargetOf(j); ok {
			t.Errorf("%s: TargetOf = %+v, want nothing", name, got)
		}
	}
}

func TestHelperJobsWorkBelowTheExportRoot(t *testing.T) {
	dir, err := VolumeDirectory(seedStorage(), "amedeo.setti", volume("home", ""))
	if err != nil {
		t.Fatal(err)
	}
	job, err := MkdirJob(JobInputs{Namespace: "dora-system", Volume: types.NamespacedName{Namespace: "amedeo-setti", Name: "home"}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	pod := job.Spec.Template.Spec
	if nfs := pod.Volumes[0].NFS; nfs == nil || nfs.Server != "10.10.10.1" || nfs.Path != "/dora-storage-01/share-01" {
		t.Errorf("mkdir mounts %+v, want the export root", pod.Volumes[0])
	}
	if env := pod.Containers[0].Env; env[0].Value != "/export/amedeo.setti/home" {
		t.Errorf("mkdir DIR=%s", env[0].Value)
	}
	if pod.Containers[0].Image != DefaultHelperImage || pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("image %s, restart %s", pod.Containers[0].Image, pod.RestartPolicy)
	}
	if pref := pod.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution; len(pref) != 1 ||
		pref[0].Preference.MatchExpressions[0].Operator != corev1.NodeSelectorOpDoesNotExist {
		t.Errorf("helpers should prefer nodes without GPUs: %+v", pref)
	}
	if job.Labels[doradev1.LabelVolume] != "home" {
		t.Error("the job must carry dora.dev/volume for the manager's cache")
	}

	root := Directory{Server: "10.10.10.1", Export: "/dora-storage-01/share-01", Rel: "."}
	if _, err := RmdirJob(JobInputs{Namespace: "dora-system", Volume: types.NamespacedName{Namespace: "ns", Name: "v"}}, root); err == nil {
		t.Error("RmdirJob accepted the export root: it would delete every volume")
	}

	to, _ := VolumeDirectory(seedStorage(), "amedeo.setti.copy", volume("home", ""))
	cp, err := CopyJob(JobInputs{Namespace: "dora-system", Volume: types.NamespacedName{Namespace: "amedeo-setti-copy", Name: "home"}}, dir, to)
	if err != nil {
		t.Fatal(err)
	}
	mounts := cp.Spec.Template.Spec.Containers[0].VolumeMounts
	if !mounts[0].ReadOnly || mounts[1].ReadOnly {
		t.Errorf("copy mounts %+v: the source must be read-only, the target writable", mounts)
	}
}

func TestOutcomeReadsTheJobConditions(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "mkdir-home-1", Namespace: "dora-system"}}
	if o, _ := Outcome(job); o != JobRunning {
		t.Errorf("a job without conditions is %v, want running", o)
	}
	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}
	o, msg := Outcome(job)
	if o != JobFailed || !strings.Contains(msg, "BackoffLimitExceeded") || !strings.Contains(msg, "kubectl logs -n dora-system job/mkdir-home-1") {
		t.Errorf("failed job: %v %q", o, msg)
	}
	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	if o, _ := Outcome(job); o != JobSucceeded {
		t.Errorf("complete job is %v", o)
	}
}

func TestDirectoryAtReadsBackARecordedDirectory(t *testing.T) {
	st := seedStorage()
	want, err := VolumeDirectory(st, "amedeo.setti", volume("home", "run-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := DirectoryAt(st, want.Server, want.Path())
	if !ok || got.Rel != want.Rel || got.Export != want.Export || got.Path() != want.Path() {
		t.Errorf("DirectoryAt = %+v, %v; want %+v", got, ok, want)
	}
	for _, c := range []struct{ server, path string }{
		{"10.10.10.2", want.Path()},
		{"10.10.10.1", "/dora-storage-01/share-01"},
		{"10.10.10.1", "/dora-storage-01/share-010/x"},
		{"", want.Path()},
	} {
		if _, ok := DirectoryAt(st, c.server, c.path); ok {
			t.Errorf("DirectoryAt(%s, %s) accepted a directory the storage does not hold", c.server, c.path)
		}
	}
}

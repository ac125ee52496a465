package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	crfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/cli/gpus"
	"github.com/dora-hpc/dora-operator/internal/cli/transfer"
)

// doraNode is a Dora Node whose agent reports n GPUs of product, holders named by index.
func doraNode(name, product string, n int, holders map[int32]string) doradev1.Node {
	node := doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for i := range int32(n) {
		node.Status.GPUs = append(node.Status.GPUs, doradev1.GPUInfo{Index: i, UUID: name + "-gpu", Product: product, Healthy: true, Pod: holders[i]})
	}
	return node
}

func holdersOf(n doradev1.Node) []string {
	var out []string
	for _, g := range n.Status.GPUs {
		out = append(out, g.Pod)
	}
	return out
}

func TestHoldersFromPodsGivesTheUnnamedGPUsToThePodsTheSchedulerPlacedThere(t *testing.T) {
	nodes := []doradev1.Node{
		doraNode("v100-0", "Tesla V100-SXM2-16GB", 4, nil),
		doraNode("v100-1", "Tesla V100-SXM2-16GB", 4, map[int32]string{2: "amedeo-setti/b-0"}),
		doraNode("cpu-0", "", 0, nil),
	}
	nodes[0].Status.GPUs[0].Healthy = false // an unhealthy GPU is given last
	finished := workloadPod("done", "0").gpus(4).on("v100-0").pod
	finished.Status.Phase = corev1.PodSucceeded
	pods := []corev1.Pod{
		workloadPod("b", "0").gpus(2).on("v100-1").pod, // named once by the report: one more
		workloadPod("a", "0").gpus(2).on("v100-0").pod,
		workloadPod("a", "1").gpus(1).on("v100-0").pod,
		finished,
		workloadPod("c", "0").on("v100-0").pod, // no GPU
		workloadPod("x", "0").gpus(9).pod,      // not bound
	}
	got := HoldersFromPods(nodes, pods)
	if diff := cmp.Diff([]string{"", "amedeo-setti/a-0", "amedeo-setti/a-0", "amedeo-setti/a-1"}, holdersOf(got[0])); diff != "" {
		t.Errorf("v100-0 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"amedeo-setti/b-0", "", "amedeo-setti/b-0", ""}, holdersOf(got[1])); diff != "" {
		t.Errorf("v100-1 (-want +got):\n%s", diff)
	}
	if nodes[0].Status.GPUs[1].Pod != "" {
		t.Error("the nodes given were changed")
	}
	sum := gpus.Summarize(got, nil, nil)
	m, _ := sum.Model("Tesla V100-SXM2-16GB")
	if m.Total != 8 || m.Used != 5 || m.Free != 2 || m.Unavailable != 1 || m.MaxFreeOnANode != 2 {
		t.Errorf("the summary after: %+v", m)
	}
}

func TestHoldersFromPodsNeverGivesMoreGPUsThanTheNodeHas(t *testing.T) {
	nodes := []doradev1.Node{doraNode("t4-0", "Tesla T4", 2, nil)}
	pods := []corev1.Pod{workloadPod("a", "0").gpus(2).on("t4-0").pod, workloadPod("b", "0").gpus(2).on("t4-0").pod}
	if diff := cmp.Diff([]string{"amedeo-setti/a-0", "amedeo-setti/a-0"}, holdersOf(HoldersFromPods(nodes, pods)[0])); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFleetSummaryUsesThePodsOnlyWhereTheyCouldBeRead(t *testing.T) {
	f := &Fleet{Nodes: []doradev1.Node{doraNode("t4-0", "Tesla T4", 2, nil)}}
	if m, _ := f.Summary().Model("Tesla T4"); m.Free != 2 {
		t.Errorf("without pods: %+v", m)
	}
	f.Pods = []corev1.Pod{workloadPod("a", "0").gpus(1).on("t4-0").pod}
	if m, _ := f.Summary().Model("Tesla T4"); m.Free != 1 || m.Used != 1 {
		t.Errorf("with pods: %+v", m)
	}
}

func TestCallerLocationIsTZElseTheLocalZone(t *testing.T) {
	env := func(tz string) func(string) string {
		return func(k string) string {
			if k == "TZ" {
				return tz
			}
			return ""
		}
	}
	for tz, want := range map[string]string{
		"Europe/Rome": "Europe/Rome", ":Europe/Rome": "Europe/Rome", "UTC": "UTC", ":": "UTC",
		"": time.Local.String(), "No/Such_Zone": time.Local.String(),
	} {
		if got := CallerLocation(env(tz)).String(); got != want {
			t.Errorf("TZ=%q: %s, want %s", tz, got, want)
		}
	}
}

func TestParseVolumeRefTakesAVolumeOrWorkspaceSlashVolume(t *testing.T) {
	r, err := ParseVolumeRef("home", "amedeo.setti", "amedeo-setti")
	checkErr(t, err, "")
	if r.Shared() || r.VolumeNamespace() != "amedeo-setti" || r.Volume != "home" {
		t.Errorf("home: %+v", r)
	}
	r, err = ParseVolumeRef("datasets.shared/imagenet", "amedeo.setti", "amedeo-setti")
	checkErr(t, err, "")
	if !r.Shared() || r.VolumeNamespace() != "datasets-shared" || r.Volume != "imagenet" || r.Namespace != "amedeo-setti" {
		t.Errorf("datasets.shared/imagenet: %+v", r)
	}
	for _, bad := range []string{"/home", "ws/", "a/b/c", ""} {
		if _, err := ParseVolumeRef(bad, "ws", "ws"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestVolumeAccessNeedsAreTheDoraVerbAndTheHelpers(t *testing.T) {
	r, _ := ParseVolumeRef("datasets/imagenet", "amedeo.setti", "amedeo-setti")
	var got []string
	for _, n := range VolumeAccessNeeds(doradev1.VerbDownload, r) {
		a := n.Attributes
		got = append(got, n.DoraVerb+" "+n.DoraKind+": "+a.Verb+" "+a.Group+"/"+a.Resource+"/"+a.Subresource+" "+a.Namespace+"/"+a.Name)
	}
	want := []string{
		"Download Volume: download dora.dev/volumes/ datasets/imagenet",
		"Use Volume: use dora.dev/volumes/ datasets/imagenet",
		"Apply Workload: create dora.dev/workloads/ amedeo-setti/",
		"Delete Workload: delete dora.dev/workloads/ amedeo-setti/",
		"Shell Container: create /pods/exec amedeo-setti/",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for verb, dora := range map[string]string{"ls": "Ls", "upload": "Upload", "sync": "Sync"} {
		if n := VolumeAccessNeeds(verb, r)[0]; n.DoraVerb != dora || n.Attributes.Verb != verb {
			t.Errorf("%s: %+v", verb, n)
		}
	}
}

// accessSession is a session on a fake clientset whose access reviews allow what allowed
// says, as user; reviews records them.
func accessSession(dir, user string, allowed func(authorizationv1.ResourceAttributes) bool, reviews *[]authorizationv1.ResourceAttributes) *Session {
	kube := fake.NewClientset()
	kube.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: user}}}, nil
	})
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		attrs := *review.Spec.ResourceAttributes
		*reviews = append(*reviews, attrs)
		review.Status.Allowed = allowed(attrs)
		return true, review, nil
	})
	env := NewEnv(genericclioptions.NewTestIOStreamsDiscard())
	env.Getenv = func(k string) string {
		if k == EnvConfig {
			return dir + "/none.yaml"
		}
		return ""
	}
	return &Session{Zone: Zone{Name: "dc-rov-01", Context: "dc-rov-01"}, Env: env, Kube: kube,
		Client: crfake.NewClientBuilder().WithScheme(Scheme()).Build(), flags: genericclioptions.NewConfigFlags(false)}
}

func TestCheckVolumeAccessRefusesNamingTheVerbAndTheUser(t *testing.T) {
	ctx := context.Background()
	r, _ := ParseVolumeRef("home", "amedeo.setti", "amedeo-setti")
	var reviews []authorizationv1.ResourceAttributes
	s := accessSession(t.TempDir(), "guest.viewer", func(a authorizationv1.ResourceAttributes) bool { return a.Resource != "volumes" }, &reviews)
	err := checkVolumeAccess(ctx, s, "ls", r)
	var refusal *RefusalError
	if !errors.As(err, &refusal) {
		t.Fatalf("not a refusal: %v", err)
	}
	want := "refused: guest.viewer may not ls volume home of workspace amedeo.setti (zone dc-rov-01): that takes the Dora verb Ls on the volume, " +
		"which none of guest.viewer's roles grants (checked with SelfSubjectAccessReviews; nothing was started)"
	if err.Error() != want {
		t.Errorf("the refusal:\n got %s\nwant %s", err, want)
	}
	if len(reviews) != 4 {
		t.Errorf("%d reviews, want 4: %v", len(reviews), reviews)
	}

	reviews = nil
	s = accessSession(t.TempDir(), "amedeo.setti", func(a authorizationv1.ResourceAttributes) bool { return a.Resource == "volumes" }, &reviews)
	checkErr(t, checkVolumeAccess(ctx, s, "upload", r),
		"amedeo.setti may not run the helper workload that moves the data, in workspace amedeo.setti (zone dc-rov-01): that takes the Dora verbs Apply on Workload, Delete on Workload, Shell on Container, which amedeo.setti lacks there")

	s = accessSession(t.TempDir(), "amedeo.setti", func(authorizationv1.ResourceAttributes) bool { return true }, &reviews)
	checkErr(t, checkVolumeAccess(ctx, s, "sync", r), "")
}

func TestVolumePathIsThePathInTheVolume(t *testing.T) {
	for remote, want := range map[string]string{"/data": "/", "/data/": "/", "/data/a/b": "/a/b", "/database": "/database", "/elsewhere": "/elsewhere"} {
		if got := VolumePath("/data", remote); got != want {
			t.Errorf("%s: %s, want %s", remote, got, want)
		}
	}
	if got := VolumePath("/", "/x/y"); got != "/x/y" {
		t.Errorf("root /: %s", got)
	}
}

func TestWriteTransferReportListsWhatSyncSentAndCounts(t *testing.T) {
	var b bytes.Buffer
	WriteTransferReport(&b, transfer.Stats{Files: 1, Dirs: 0, Bytes: 1536, Unchanged: 3, Ignored: 1, Deleted: 1,
		Sent: []string{"a/b.txt"}, Removed: []string{"old.txt"}, Duration: 1234567 * time.Microsecond}, "synced ./p to volume home:/p", false)
	want := "sent a/b.txt\ndeleted old.txt\nsynced ./p to volume home:/p: 1 file, 0 directories, 1.5 KiB, 3 unchanged, 1 ignored, 1 deleted in 1.235s\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteTransferReport(&b, transfer.Stats{Files: 2, Dirs: 1, Symlinks: 1, Bytes: 10, Sent: []string{"x"}}, "would sync (dry run) d to volume v:/d", true)
	if !strings.HasPrefix(b.String(), "would send x\nwould sync (dry run) d to volume v:/d: 2 files, 1 directory, 1 symlink, 10 B in 0s") {
		t.Errorf("dry run:\n%s", b.String())
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 20 << 20: "20.0 MiB", 3 << 40: "3.0 TiB"} {
		if got := ByteSize(n); got != want {
			t.Errorf("%d: %s, want %s", n, got, want)
		}
	}
}

func TestHelperNotStartedSaysTheSchedulersReason(t *testing.T) {
	wl := transfer.NewHelper(transfer.HelperSpec{Volume: "home", Workspace: "amedeo.setti", Suffix: "abcde"})
	wl.Generation = 1
	wl.Status.ObservedGeneration = 1
	msg := "0/6 nodes are available: 6 Insufficient cpu."
	wl.Status.Conditions = []metav1.Condition{{Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonUnschedulable, Message: "1 of 1 replicas wait for hardware: " + msg}}
	pod := workloadPod(wl.Name, "0").pod
	pod.Status.Phase = corev1.PodPending
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg}}
	err := HelperNotStartedError(wl, []corev1.Pod{pod}, "dc-rov-01", 2*time.Minute, now)
	checkErr(t, err, "the helper workload helper-home-abcde (image busybox:1.36) did not start within 2m: 1 of 1 replicas wait for a node: the scheduler says: ")
	checkErr(t, err, msg)
	checkErr(t, err, "(--timeout waits longer; the helper is deleted)")
}

func TestTheNewCommandsAreRegisteredWithTheirFlags(t *testing.T) {
	root, _ := NewRootCommand(genericclioptions.NewTestIOStreamsDiscard())
	for _, tc := range []struct {
		path  []string
		flags []string
	}{
		{[]string{"why"}, []string{"output"}},
		{[]string{"gpus"}, []string{"free", "model", "summary", "nodes", "output", "no-headers", "all-zones"}},
		{[]string{"credits"}, []string{FlagDoraUser, "all-zones"}},
		{[]string{"usage"}, []string{FlagDoraUser, "week", "output"}},
		{[]string{"volume", "ls"}, []string{"image", "mount-path", "timeout", "progress", "output", "human"}},
		{[]string{"volume", "upload"}, []string{"name"}},
		{[]string{"volume", "download"}, []string{"name"}},
		{[]string{"volume", "sync"}, []string{"delete", "checksum", "dry-run", "no-ignore-files", "exclude"}},
	} {
		cmd, _, err := root.Find(tc.path)
		if err != nil || cmd.Name() != tc.path[len(tc.path)-1] {
			t.Errorf("%v: %v", tc.path, err)
			continue
		}
		for _, f := range tc.flags {
			if cmd.Flags().Lookup(f) == nil && cmd.InheritedFlags().Lookup(f) == nil {
				t.Errorf("%v has no --%s", tc.path, f)
			}
		}
	}
	if _, ok := lookupView("gpus"); !ok {
		t.Error("get gpus is not a view of get")
	}
	// kubectl's own --user is still the kubeconfig user's.
	credits, _, _ := root.Find([]string{"credits"})
	if f := credits.InheritedFlags().Lookup("user"); f == nil || !strings.Contains(f.Usage, "kubeconfig") {
		t.Errorf("credits' --user is not kubectl's: %+v", f)
	}
}

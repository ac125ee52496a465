package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/types"
	apiwatch "k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/workload"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// revisionsOf are a workload's ControllerRevisions, oldest first.
func revisionsOf(g Gomega, wl *doradev1.Workload) []appsv1.ControllerRevision {
	list := &appsv1.ControllerRevisionList{}
	g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(wl.Namespace),
		client.MatchingLabels{podspec.LabelWorkload: wl.Name})).To(Succeed())
	slices.SortFunc(list.Items, func(a, b appsv1.ControllerRevision) int { return int(a.Revision - b.Revision) })
	return list.Items
}

// statusWrites counts the changes to a workload's status the API server stores, from the
// moment it is called.
func statusWrites(t *testing.T, namespace, name string) func() int {
	t.Helper()
	c, ok := testEnv.Client.(client.WithWatch)
	if !ok {
		t.Fatal("the harness's client cannot watch")
	}
	w, err := c.Watch(context.Background(), &doradev1.WorkloadList{}, client.InNamespace(namespace))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	writes := make(chan struct{}, 100)
	go func() {
		var last *doradev1.WorkloadStatus
		for ev := range w.ResultChan() {
			wl, ok := ev.Object.(*doradev1.Workload)
			if !ok || wl.Name != name || ev.Type == apiwatch.Deleted {
				continue
			}
			if last != nil && !equalJSON(*last, wl.Status) {
				writes <- struct{}{}
			}
			last = wl.Status.DeepCopy()
		}
	}()
	return func() int { return len(writes) }
}

func equalJSON(a, b any) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && string(x) == string(y)
}

// A workload's spec is its one revision until it changes: coming up, it costs its pods and
// one status write, no ControllerRevision and no event. Its first change keeps both
// revisions, from replica 0's spec before it is replaced, and going back to the first adds
// none.
func TestAWorkloadsFirstSpecIsItsOneRevisionUntilItChanges(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.history")
	wl := gpuWorkload(ns, "history", 2, 0)
	writes := statusWrites(t, ns, wl.Name)
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	created := time.Now()
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the first revision should run")
	ran := time.Since(created)
	first := wl.Status.CurrentRevision
	g.Expect(first).To(Equal(podspec.TemplateHash(wl)))

	g.Expect(revisionsOf(g, wl)).To(BeEmpty(), "a workload that has had one spec keeps no ControllerRevision")
	g.Consistently(func(g Gomega) {
		events := &eventsv1.EventList{}
		g.Expect(k8sClient.List(ctx, events, client.InNamespace(ns))).To(Succeed())
		for _, e := range events.Items {
			g.Expect(e.Regarding.Kind == "Workload" && e.Regarding.Name == wl.Name).To(BeFalse(),
				"a new workload's first pods are no event: %s %s", e.Reason, e.Note)
		}
	}).WithTimeout(2 * time.Second).Should(Succeed())
	t.Logf("the pods ran %s after the workload's creation; %d status writes", ran, writes())
	if ran < 8*time.Second {
		g.Expect(writes()).To(Equal(1), "a workload whose pods ran within %s of its creation has its status written once", ran)
	} else {
		t.Logf("the pods took %s to run: the status was shown before they did (%d writes)", ran, writes())
	}
	pods := map[string]corev1.Pod{}
	for _, p := range workloadPods(g, wl) {
		pods[p.Name] = p
	}
	g.Expect(pods).To(HaveLen(2))
	g.Expect(pods["history-0"].Annotations).To(HaveKey(workload.AnnotationRevisionSpec), "replica 0 carries its revision")
	g.Expect(pods["history-1"].Annotations).NotTo(HaveKey(workload.AnnotationRevisionSpec), "only replica 0 carries its revision")

	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"config":{"env":["EPOCHS=20"]}}}`))
	g.Expect(k8sClient.Patch(ctx, wl, patch)).To(Succeed())
	second := podspec.TemplateHash(wl)
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(wl.Status.CurrentRevision).To(Equal(second))
		g.Expect(wl.Status.Ready).To(Equal("2/2"))
		for _, p := range workloadPods(g, wl) {
			g.Expect(p.Labels[podspec.LabelRevision]).To(Equal(second), "pod %s should have been replaced", p.Name)
		}
	}).WithTimeout(60*time.Second).Should(Succeed(), "a spec change should replace both pods")
	expectHistory := func(why string) {
		revs := revisionsOf(g, wl)
		g.Expect(revs).To(HaveLen(2), why)
		for i, want := range []struct {
			hash string
			env  []string
		}{{first, nil}, {second, []string{"EPOCHS=20"}}} {
			spec := &doradev1.WorkloadSpec{}
			g.Expect(json.Unmarshal(revs[i].Data.Raw, spec)).To(Succeed())
			g.Expect(revs[i].Revision).To(BeEquivalentTo(i+1), why)
			g.Expect(revs[i].Labels[podspec.LabelRevision]).To(Equal(want.hash), why)
			g.Expect(spec.Config.Env).To(Equal(want.env), "%s: revision %d holds its spec", why, i+1)
			g.Expect(spec.Replica).To(BeNil(), "a revision holds no replica count")
		}
	}
	expectHistory("after the first change")

	// Back to the first spec, as kubectl dora rollback writes it.
	back := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"config":{"env":null}}}`))
	g.Expect(k8sClient.Patch(ctx, wl, back)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(wl.Status.CurrentRevision).To(Equal(first))
		g.Expect(wl.Status.Ready).To(Equal("2/2"))
	}).WithTimeout(60*time.Second).Should(Succeed(), "going back should replace both pods again")
	expectHistory("after going back to the first spec")
}

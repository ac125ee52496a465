package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// eventLog keeps the events sent, as "Type Reason: note".
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) Eventf(_, _ runtime.Object, eventType, reason, _, note string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, eventType+" "+reason+": "+fmt.Sprintf(note, args...))
}

func (l *eventLog) sent() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// countingReader counts the reads that go past the cache.
type countingReader struct {
	client.Reader
	mu    sync.Mutex
	reads int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Reader.Get(ctx, key, obj, opts...)
}

// historyEnv is one workload on a fake API server, with the manager that reconciles it.
type historyEnv struct {
	t      *testing.T
	ctx    context.Context
	c      client.WithWatch
	r      *Reconciler
	events *eventLog
	reader *countingReader
	key    types.NamespacedName
	// writes counts the API writes by kind and verb: "create pods", "patch status" ...
	writes map[string]int
}

func newHistoryEnv(t *testing.T, wl *doradev1.Workload) *historyEnv {
	t.Helper()
	wl.UID = "train-uid"
	e := &historyEnv{t: t, ctx: context.Background(), key: client.ObjectKeyFromObject(wl), writes: map[string]int{}}
	count := func(verb string, obj client.Object) {
		kind := fmt.Sprintf("%T", obj)
		e.writes[verb+" "+strings.ToLower(strings.TrimPrefix(kind[strings.LastIndex(kind, ".")+1:], "*"))]++
	}
	e.c = testclient.NewBuilder().WithObjects(wl).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count("create", obj)
			return c.Create(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			e.writes["patch "+sub]++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}).Build()
	e.restart()
	return e
}

// restart is a manager that starts afresh (restarted, or another taking over): it has seen
// no update of the workload.
func (e *historyEnv) restart() {
	e.events = &eventLog{}
	e.reader = &countingReader{Reader: e.c}
	e.r = NewReconciler(e.c, e.events, clocktesting.NewFakePassiveClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)),
		Options{APIReader: e.reader})
}

func (e *historyEnv) reconcile() {
	e.t.Helper()
	if _, err := e.r.Reconcile(e.ctx, ctrl.Request{NamespacedName: e.key}); err != nil {
		e.t.Fatalf("Reconcile: %v", err)
	}
}

func (e *historyEnv) workload() *doradev1.Workload {
	e.t.Helper()
	wl := &doradev1.Workload{}
	if err := e.c.Get(e.ctx, e.key, wl); err != nil {
		e.t.Fatal(err)
	}
	return wl
}

// change updates the workload as the user would; watched says whether the manager's watch
// sees the update (false: the manager was away).
func (e *historyEnv) change(watched bool, edit func(*doradev1.Workload)) {
	e.t.Helper()
	before := e.workload()
	after := before.DeepCopy()
	edit(after)
	after.Generation++
	if watched && !e.r.keepReplacedRevision().Update(event.UpdateEvent{ObjectOld: before, ObjectNew: after}) {
		e.t.Fatal("the watch dropped a spec change")
	}
	if err := e.c.Update(e.ctx, after); err != nil {
		e.t.Fatal(err)
	}
}

func image(name string) func(*doradev1.Workload) {
	return func(wl *doradev1.Workload) { wl.Spec.Image.Image = name }
}

// revisions are the workload's ControllerRevisions, oldest first, as "number image".
func (e *historyEnv) revisions() []string {
	e.t.Helper()
	list := &appsv1.ControllerRevisionList{}
	if err := e.c.List(e.ctx, list, client.InNamespace(e.key.Namespace)); err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(list.Items, func(a, b appsv1.ControllerRevision) int { return int(a.Revision - b.Revision) })
	var out []string
	for _, cr := range list.Items {
		spec := &doradev1.WorkloadSpec{}
		if err := json.Unmarshal(cr.Data.Raw, spec); err != nil {
			e.t.Fatal(err)
		}
		if spec.Replica != nil || spec.Paused {
			e.t.Errorf("revision %d holds replica or paused: %s", cr.Revision, cr.Data.Raw)
		}
		wl := &doradev1.Workload{Spec: *spec}
		if got := podspec.TemplateHash(wl); cr.Labels[podspec.LabelRevision] != got || cr.Name != revisionName(e.key.Name, got) {
			e.t.Errorf("revision %d is labelled %s and named %s, but holds revision %s", cr.Revision, cr.Labels[podspec.LabelRevision], cr.Name, got)
		}
		out = append(out, fmt.Sprintf("%d %s", cr.Revision, spec.Image.Image))
	}
	return out
}

func (e *historyEnv) expectRevisions(why string, want ...string) {
	e.t.Helper()
	if diff := cmp.Diff(want, e.revisions()); diff != "" {
		e.t.Errorf("%s: revisions (-want +got):\n%s", why, diff)
	}
}

// pods are the workload's pods as the API server holds them, by name.
func (e *historyEnv) pods() map[string]*corev1.Pod {
	e.t.Helper()
	list := &corev1.PodList{}
	if err := e.c.List(e.ctx, list, client.InNamespace(e.key.Namespace)); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]*corev1.Pod{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

// replacePods lets the deleted pods go and reconciles, so that the replaced replicas are
// made again at the workload's revision.
func (e *historyEnv) replacePods() {
	e.t.Helper()
	for _, pod := range e.pods() {
		if pod.DeletionTimestamp != nil {
			pod.Finalizers = nil
			if err := e.c.Update(e.ctx, pod); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	e.reconcile()
}

// A workload that has had one spec has no history objects: its spec is its revision. Its
// replica 0, alone, carries the revision, for the day the spec changes unwatched.
func TestANewWorkloadWritesNoRevision(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(3, image("pytorch:1")))
	e.reconcile()
	e.reconcile()
	e.expectRevisions("a new workload")
	if e.writes["create controllerrevision"] != 0 {
		t.Errorf("%d revisions created", e.writes["create controllerrevision"])
	}
	pods := e.pods()
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	want, err := revisionData(&e.workload().Spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := pods["train-0"].Annotations[AnnotationRevisionSpec]; got != string(want) {
		t.Errorf("replica 0 carries %q, want %s", got, want)
	}
	for _, name := range []string{"train-1", "train-2"} {
		if _, ok := pods[name].Annotations[AnnotationRevisionSpec]; ok {
			t.Errorf("%s carries the revision too", name)
		}
	}
	if n := e.reader.reads; n != 0 {
		t.Errorf("%d reads past the cache for a new workload, want none", n)
	}
}

// The first spec change records the revision it replaced, from the watch's update, as 1
// and the new one as 2; later changes add one each, and the history keeps the newest
// historyLimit.
func TestTheFirstSpecChangeRecordsBothRevisionsFromTheWatch(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(2, image("pytorch:1")))
	e.reconcile()
	e.change(true, image("pytorch:2"))
	e.reconcile()
	e.expectRevisions("after the first change", "1 pytorch:1", "2 pytorch:2")
	if n := e.reader.reads; n != 0 {
		t.Errorf("%d reads past the cache, want none: the watch had the replaced spec", n)
	}
	if _, kept := e.r.replaced.Load(e.key); kept {
		t.Error("the replaced spec is still kept once recorded")
	}
	e.replacePods()
	e.reconcile()
	if n := e.writes["create controllerrevision"]; n != 2 {
		t.Errorf("%d revisions created, want 2", n)
	}
	if got := e.pods()["train-0"]; got.Labels[podspec.LabelRevision] != podspec.TemplateHash(e.workload()) {
		t.Errorf("replica 0 is of revision %s after the change", got.Labels[podspec.LabelRevision])
	}

	e.r.historyLimit = 3
	e.change(true, image("pytorch:3"))
	e.reconcile()
	e.expectRevisions("after the second change", "1 pytorch:1", "2 pytorch:2", "3 pytorch:3")
	e.change(true, image("pytorch:4"))
	e.reconcile()
	e.expectRevisions("past the history limit", "2 pytorch:2", "3 pytorch:3", "4 pytorch:4")

	// A rollback is a spec the history has: nothing is written.
	e.change(true, image("pytorch:3"))
	e.reconcile()
	e.expectRevisions("after a rollback", "2 pytorch:2", "3 pytorch:3", "4 pytorch:4")
	if len(e.events.sent()) == 0 || slices.ContainsFunc(e.events.sent(), func(s string) bool { return strings.HasPrefix(s, "Warning") }) {
		t.Errorf("events %q, want the replacements' and no warning", e.events.sent())
	}
}

// A manager that did not see the first change (down, or not the leader then) reads the
// replaced revision from replica 0, past the cache, once, before the pod is replaced.
func TestAnUnwatchedFirstChangeIsRecordedFromReplicaZero(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(2, image("pytorch:1")))
	e.reconcile()
	e.restart()
	e.change(false, image("pytorch:2"))
	e.reconcile()
	e.expectRevisions("after the first change", "1 pytorch:1", "2 pytorch:2")
	if n := e.reader.reads; n != 1 {
		t.Errorf("%d reads past the cache, want 1 (replica 0)", n)
	}
	if got := e.events.sent(); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "Warning") }) {
		t.Errorf("events %q, want no warning", got)
	}
	e.replacePods()
	e.reconcile()
	if n := e.reader.reads; n != 1 {
		t.Errorf("%d reads past the cache once recorded, want still 1", n)
	}
}

// A paused workload has no pods to read a replaced revision from: changed while no
// manager watched, its history starts at the new revision, as 2, and a Warning says so.
func TestAnUnwatchedChangeOfAPausedWorkloadStartsTheHistoryAtTheNewRevision(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(2, image("pytorch:1"), func(wl *doradev1.Workload) { wl.Spec.Paused = true }))
	e.reconcile()
	first := e.workload().Status.CurrentRevision
	if first == "" {
		t.Fatal("the paused workload's status was not written")
	}
	e.restart()
	e.change(false, image("pytorch:2"))
	e.reconcile()
	e.reconcile()
	e.expectRevisions("after the change", "2 pytorch:2")
	var warnings []string
	for _, ev := range e.events.sent() {
		if strings.HasPrefix(ev, "Warning") {
			warnings = append(warnings, ev)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], EventRevisionNotRecorded+": Revision 1 ("+first+") could not be recorded") {
		t.Errorf("warnings %q, want one saying revision 1 could not be recorded", warnings)
	}
	// The history goes on from there.
	e.change(true, image("pytorch:3"))
	e.reconcile()
	e.expectRevisions("after the next change", "2 pytorch:2", "3 pytorch:3")
}

// The same paused workload, changed while the manager watched: the watch had the spec.
func TestAWatchedChangeOfAPausedWorkloadIsRecorded(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(2, image("pytorch:1"), func(wl *doradev1.Workload) { wl.Spec.Paused = true }))
	e.reconcile()
	e.change(true, image("pytorch:2"))
	e.reconcile()
	e.expectRevisions("after the change", "1 pytorch:1", "2 pytorch:2")
}

// Updates that come faster than the reconciles: the revision kept is the one the pods run,
// and a change undone before the reconcile records nothing.
func TestChangesFasterThanTheReconcileKeepTheRevisionThePodsRun(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(1, image("pytorch:1")))
	e.reconcile()
	e.change(true, image("pytorch:2"))
	e.change(true, image("pytorch:1"))
	e.reconcile()
	e.expectRevisions("a change undone")
	e.change(true, image("pytorch:2"))
	e.change(true, image("pytorch:3"))
	e.reconcile()
	e.expectRevisions("two changes, one reconcile", "1 pytorch:1", "2 pytorch:3")
}

// Only a change to what the pods are made of is a revision: a scale or a pause keeps
// nothing.
func TestScaleAndPauseAreNoRevisions(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(1, image("pytorch:1")))
	e.reconcile()
	e.change(true, func(wl *doradev1.Workload) { wl.Spec.Replica.Count = ptr.To[int32](3) })
	e.reconcile()
	e.change(true, func(wl *doradev1.Workload) { wl.Spec.Paused = true })
	e.reconcile()
	e.expectRevisions("scaled and paused")
	if _, kept := e.r.replaced.Load(e.key); kept {
		t.Error("a scale or a pause kept a replaced spec")
	}
}

// A workload coming up costs its pods and one status write, sent once they run: no
// history, no event, no status while they are on their way. A settled workload costs
// nothing, and neither does a reconcile from a cache that has not seen the manager's own
// write yet.
func TestAWorkloadComingUpCostsItsPodsAndOneStatusWrite(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(4, image("pytorch:1")))
	e.reconcile()
	want := map[string]int{"create pod": 4}
	if diff := cmp.Diff(want, e.writes); diff != "" {
		t.Errorf("writes while the pods are on their way (-want +got):\n%s", diff)
	}
	if got := e.events.sent(); len(got) != 0 {
		t.Errorf("events %q for a new workload's first pods, want none", got)
	}
	// The pods run.
	for _, pod := range e.pods() {
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if err := e.c.Status().Update(e.ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	stale := e.workload()
	e.reconcile()
	e.reconcile()
	want["patch status"] = 1
	if diff := cmp.Diff(want, e.writes); diff != "" {
		t.Errorf("writes once the pods run (-want +got):\n%s", diff)
	}
	if got := e.workload().Status; got.Phase != doradev1.WorkloadPhaseRunning || got.Ready != "4/4" {
		t.Errorf("status %s %s, want Running 4/4", got.Phase, got.Ready)
	}

	// A cache a moment behind: the workload as it was before the write.
	behind := testclient.NewBuilder().WithObjects(stale).WithInterceptorFuncs(interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			e.writes["patch "+sub]++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}).Build()
	for _, pod := range e.pods() {
		pod.ResourceVersion = ""
		if err := behind.Create(e.ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	caughtUp := e.r.client
	e.r.client = behind
	result, err := e.r.Reconcile(e.ctx, ctrl.Request{NamespacedName: e.key})
	if err != nil || result.RequeueAfter != cacheCatchUp {
		t.Errorf("Reconcile from a cache behind = %+v, %v; want a look again in %v", result, err, cacheCatchUp)
	}
	e.r.client = caughtUp
	e.reconcile()
	if diff := cmp.Diff(want, e.writes); diff != "" {
		t.Errorf("writes from a cache behind the manager's own write, then caught up (-want +got):\n%s", diff)
	}
	if got := e.events.sent(); len(got) != 0 {
		t.Errorf("events %q, want none", got)
	}
}

// A new workload whose pods are still on their way is shown as it is after
// firstStatusDelay: the reconcile asks to be called back then.
func TestASlowStartIsShownAfterTheFirstStatusDelay(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(2, image("pytorch:1")))
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	e.r.clock = clk
	result, err := e.r.Reconcile(e.ctx, ctrl.Request{NamespacedName: e.key})
	if err != nil || result.RequeueAfter != firstStatusDelay {
		t.Fatalf("Reconcile = %+v, %v; want a call back in %v", result, err, firstStatusDelay)
	}
	clk.SetTime(clk.Now().Add(firstStatusDelay))
	e.reconcile()
	if n := e.writes["patch status"]; n != 1 {
		t.Errorf("%d status writes once the delay is over, want 1", n)
	}
	if got := e.workload().Status; got.Phase != doradev1.WorkloadPhasePending || got.Ready != "0/2" {
		t.Errorf("status %s %s, want Pending 0/2", got.Phase, got.Ready)
	}
}

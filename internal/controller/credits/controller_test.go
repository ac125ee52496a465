package credits

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

const zone = "z"

func userWithBudget(weekly doradev1.Amount) *doradev1.User {
	return &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "amedeo", UID: "user-uid"},
		Spec: doradev1.UserSpec{Credits: []doradev1.WeeklyCredits{{Zone: zone, Weekly: weekly}}}}
}

func a100Node() *doradev1.Node {
	return &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: doradev1.NodeStatus{GPUs: []doradev1.GPUInfo{{Product: "A100"}}}}
}

type fixture struct {
	t   *testing.T
	c   client.Client
	clk *clocktesting.FakeClock
	r   *Reconciler
}

func newFixture(t *testing.T, now time.Time, objs ...client.Object) *fixture {
	c := testclient.Objects(objs...)
	clk := clocktesting.NewFakeClock(now)
	return &fixture{t: t, c: c, clk: clk, r: NewReconciler(c, events.NewFakeRecorder(100), clk, Options{Zone: zone})}
}

func (f *fixture) reconcileAt(at time.Time) ctrl.Result {
	f.t.Helper()
	f.clk.SetTime(at)
	res, err := f.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: "amedeo"}})
	if err != nil {
		f.t.Fatalf("reconcile at %s: %v", at, err)
	}
	return res
}

func (f *fixture) credit() *doradev1.UserCredit {
	f.t.Helper()
	uc := &doradev1.UserCredit{}
	if err := f.c.Get(context.Background(), types.NamespacedName{Name: "amedeo"}, uc); err != nil {
		f.t.Fatal(err)
	}
	return uc
}

func (f *fixture) zone() doradev1.ZoneCredits { return zoneOf(f.credit(), zone) }

// A price of 3600 an hour is one credit a GPU-second: 2 GPUs spend a budget of 10 in 5 s.
func TestExhaustionAtThePredictedSecond(t *testing.T) {
	rc := priceOf("a100", "A100", "3600", t0.Add(-time.Hour))
	f := newFixture(t, t0, userWithBudget("10"), rc, a100Node(), running(gpuPod("a", 2), t0))

	res := f.reconcileAt(t0)
	if res.RequeueAfter != 4*time.Second {
		t.Errorf("requeue after %s, want 4s: 80%% of the budget is spent then", res.RequeueAfter)
	}
	z := f.zone()
	if z.Exhausted || z.ExhaustsAt == nil || !z.ExhaustsAt.Time.Equal(t0.Add(5*time.Second)) || z.BurnRatePerHour != "7200" {
		t.Fatalf("zone = %+v, want exhausting at %s at 7200 an hour", z, t0.Add(5*time.Second))
	}
	version := f.credit().ResourceVersion
	f.reconcileAt(t0.Add(2 * time.Second))
	if got := f.credit().ResourceVersion; got != version {
		t.Errorf("status written while the same pod simply ran (version %s -> %s)", version, got)
	}
	if res := f.reconcileAt(t0.Add(4 * time.Second)); res.RequeueAfter != time.Second {
		t.Errorf("requeue after %s at 80%%, want 1s: 90%% is spent then", res.RequeueAfter)
	}
	if res := f.reconcileAt(t0.Add(4500 * time.Millisecond)); res.RequeueAfter != 500*time.Millisecond {
		t.Errorf("requeue after %s at 4.5s, want 0.5s", res.RequeueAfter)
	}
	if f.zone().Exhausted {
		t.Fatal("exhausted a second early")
	}
	f.reconcileAt(t0.Add(5 * time.Second))
	z = f.zone()
	if !z.Exhausted || z.Used != "10" || z.Remaining != "0" {
		t.Errorf("zone at the predicted second = %+v, want exhausted with 10 used", z)
	}
	if c := meta.FindStatusCondition(f.credit().Status.Conditions, doradev1.CreditsExhausted); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("CreditsExhausted = %+v, want True", c)
	}

	// Raising the budget releases the hold.
	user := &doradev1.User{}
	_ = f.c.Get(context.Background(), types.NamespacedName{Name: "amedeo"}, user)
	user.Spec.Credits[0].Weekly = "100"
	if err := f.c.Update(context.Background(), user); err != nil {
		t.Fatal(err)
	}
	f.reconcileAt(t0.Add(6 * time.Second))
	if z := f.zone(); z.Exhausted || z.Used != "12" {
		t.Errorf("zone after the budget was raised = %+v, want 12 used and not exhausted", z)
	}
}

// A pod that ran across the reset: its time before goes to the archived week, after to the
// new one, and once it has ended and is closed its finalizer goes.
func TestPodRunningAcrossTheReset(t *testing.T) {
	week := credits.DefaultWeek()
	reset := week.Next(t0)
	rc := priceOf("a100", "A100", "1", t0.Add(-time.Hour))
	pod := running(gpuPod("a", 2), reset.Add(-time.Hour))
	f := newFixture(t, reset.Add(-30*time.Minute), userWithBudget("1000"), rc, a100Node(), pod)

	res := f.reconcileAt(reset.Add(-30 * time.Minute))
	if res.RequeueAfter != 30*time.Minute {
		t.Errorf("requeue after %s, want the reset in 30m", res.RequeueAfter)
	}
	f.reconcileAt(reset.Add(time.Minute))
	z := f.zone()
	if len(z.History) != 1 || z.History[0].Products[0].Credits != "2" || z.Used != "0.033333" {
		t.Fatalf("after the reset: history %+v, used %s; want 2 credits archived and 2 GPU-minutes used", z.History, z.Used)
	}

	// The pod finishes an hour after the reset and is closed into the new week.
	p := &corev1.Pod{}
	_ = f.c.Get(context.Background(), types.NamespacedName{Namespace: "ws", Name: "a"}, p)
	terminated(p, reset.Add(-time.Hour), reset.Add(time.Hour))
	if err := f.c.Status().Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	f.reconcileAt(reset.Add(2 * time.Hour))
	z = f.zone()
	if z.Used != "2" || len(z.Ledger.Closed) != 1 || z.Ledger.Entries[0].GPUSeconds != 2*3600 {
		t.Errorf("after the pod ended: used %s, ledger %+v; want its 2 GPU-hours after the reset", z.Used, z.Ledger)
	}
	_ = f.c.Get(context.Background(), types.NamespacedName{Namespace: "ws", Name: "a"}, p)
	if len(p.Finalizers) != 0 {
		t.Errorf("finalizers = %v, want the credits finalizer gone once the pod is closed", p.Finalizers)
	}
	// Closing again (a manager that died before removing the finalizer) adds nothing.
	f.reconcileAt(reset.Add(3 * time.Hour))
	if z := f.zone(); z.Used != "2" {
		t.Errorf("used after a second close = %s, want 2", z.Used)
	}
}

// A product without a price is charged 0 and said.
func TestUnpricedProduct(t *testing.T) {
	f := newFixture(t, t0, userWithBudget("10"), a100Node(), running(gpuPod("a", 2), t0))
	f.reconcileAt(t0.Add(time.Minute))
	uc := f.credit()
	if c := meta.FindStatusCondition(uc.Status.Conditions, doradev1.Unpriced); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Unpriced = %+v, want True naming A100", c)
	}
	if z := zoneOf(uc, zone); z.Used != "0" || z.Exhausted {
		t.Errorf("zone = %+v, want nothing charged", z)
	}
}

// The GPU pods of a workload without an owner are charged to nobody but counted in the
// Zone's status.unowned, and let go once counted; the writes come at most every few
// seconds, and a pod waits for the write that counts it.
func TestUnownedPodsAreCountedInTheZone(t *testing.T) {
	rc := priceOf("a100", "A100", "2", t0.Add(-time.Hour))
	pod := running(gpuPod("admin-job", 2), t0)
	delete(pod.Annotations, doradev1.AnnotationOwner)
	z := &doradev1.Zone{ObjectMeta: metav1.ObjectMeta{Name: zone}}
	f := newFixture(t, t0, rc, a100Node(), pod, z)
	ctx := context.Background()
	reconcileUnowned := func(at time.Time) ctrl.Result {
		t.Helper()
		f.clk.SetTime(at)
		res, err := f.r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: indexes.Unowned}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	unowned := func() *doradev1.ZoneCredits {
		t.Helper()
		got := &doradev1.Zone{}
		if err := f.c.Get(ctx, types.NamespacedName{Name: zone}, got); err != nil {
			t.Fatal(err)
		}
		return got.Status.Unowned
	}

	if reqs := ownerOfPod(ctx, pod); len(reqs) != 1 || reqs[0].Name != indexes.Unowned {
		t.Fatalf("an unowned GPU pod maps to %v, want the unowned account", reqs)
	}
	reconcileUnowned(t0)
	u := unowned()
	if u == nil || u.BurnRatePerHour != "4" || u.Weekly != "" || u.Exhausted {
		t.Fatalf("status.unowned = %+v, want 2 GPUs at 2 an hour burning 4, no budget", u)
	}

	// The pod ends an hour later; a second after the last write, nothing is written yet and
	// the pod is kept.
	f.clk.SetTime(t0.Add(time.Hour))
	_ = f.c.Get(ctx, client.ObjectKeyFromObject(pod), pod)
	pod = terminated(pod, t0, t0.Add(time.Hour))
	if err := f.c.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	f.r.unownedWritten = t0.Add(time.Hour - time.Second)
	if res := reconcileUnowned(t0.Add(time.Hour)); res.RequeueAfter != unownedBatch-time.Second {
		t.Errorf("requeue after %s, want the rest of the batch, %s", res.RequeueAfter, unownedBatch-time.Second)
	}
	_ = f.c.Get(ctx, client.ObjectKeyFromObject(pod), pod)
	if !controllerutil.ContainsFinalizer(pod, doradev1.FinalizerCredits) {
		t.Fatal("the pod was let go before the write that counts it")
	}

	reconcileUnowned(t0.Add(time.Hour + unownedBatch))
	u = unowned()
	if u.Used != "4" || len(u.Ledger.Closed) != 1 || u.Ledger.Entries[0].GPUSeconds != 7200 {
		t.Errorf("status.unowned = %+v, want the pod's 7200 GPU-seconds (4 credits) closed", u)
	}
	_ = f.c.Get(ctx, client.ObjectKeyFromObject(pod), pod)
	if controllerutil.ContainsFinalizer(pod, doradev1.FinalizerCredits) {
		t.Error("the counted pod still has the finalizer")
	}
}

// The ended pods of an owner who is no User are let go: nobody can be charged, and a pod
// kept forever would keep its namespace from being deleted.
func TestPodsOfAMissingUserAreLetGo(t *testing.T) {
	ended := terminated(gpuPod("ended", 1), t0, t0.Add(time.Minute))
	live := running(gpuPod("live", 1), t0)
	f := newFixture(t, t0.Add(time.Hour), a100Node(), ended, live)
	f.reconcileAt(t0.Add(time.Hour))
	ctx := context.Background()
	for _, tc := range []struct {
		pod  *corev1.Pod
		kept bool
	}{{ended, false}, {live, true}} {
		got := &corev1.Pod{}
		if err := f.c.Get(ctx, client.ObjectKeyFromObject(tc.pod), got); err != nil {
			t.Fatal(err)
		}
		if kept := controllerutil.ContainsFinalizer(got, doradev1.FinalizerCredits); kept != tc.kept {
			t.Errorf("pod %s keeps the finalizer: %v, want %v", got.Name, kept, tc.kept)
		}
	}
}

// Pods starting one after another only move the burn rate: the first is written at once,
// the next within rateBatch waits for the batch, and then all of it is written together.
// What holds a workload is never batched.
func TestABurstOfStartsIsWrittenInBatches(t *testing.T) {
	rc := priceOf("a100", "A100", "1", t0.Add(-time.Hour))
	f := newFixture(t, t0, userWithBudget("1000"), rc, a100Node(), running(gpuPod("a", 1), t0))
	f.reconcileAt(t0)
	if got := f.zone().BurnRatePerHour; got != "1" {
		t.Fatalf("burn rate %s after the first pod, want 1: the first write is at once", got)
	}
	ctx := context.Background()
	if err := f.c.Create(ctx, running(gpuPod("b", 1), t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	res := f.reconcileAt(t0.Add(time.Second))
	if got := f.zone().BurnRatePerHour; got != "1" {
		t.Errorf("burn rate %s a second later, want still 1: only the rate changed, within the batch", got)
	}
	if res.RequeueAfter != rateBatch-time.Second {
		t.Errorf("requeue after %s, want the rest of the batch %s", res.RequeueAfter, rateBatch-time.Second)
	}
	f.reconcileAt(t0.Add(rateBatch))
	if got := f.zone().BurnRatePerHour; got != "2" {
		t.Errorf("burn rate %s once the batch is over, want 2", got)
	}
}

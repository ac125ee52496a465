package coalesce

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var user = reconcile.Request{NamespacedName: types.NamespacedName{Name: "amedeo.setti"}}

// A key never reconciled, or last reconciled a window ago, is reconciled at once; one
// reconciled within the window waits for the rest of it, or ten times its last reconcile's
// length when that is longer.
func TestDelay(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	w := New(time.Second, clk)
	if d := w.Delay(user); d != 0 {
		t.Fatalf("never reconciled: delay %v, want 0", d)
	}
	ended := w.Began(user)
	clk.SetTime(clk.Now().Add(300 * time.Millisecond))
	if d := w.Delay(user); d != 700*time.Millisecond {
		t.Errorf("during the reconcile: delay %v, want the rest of the window, 700ms", d)
	}
	ended() // it took 300ms: the window is 3s
	if d := w.Delay(user); d != 2700*time.Millisecond {
		t.Errorf("after a 300ms reconcile: delay %v, want 10x its length from its start, 2.7s", d)
	}
	clk.SetTime(clk.Now().Add(3 * time.Second))
	if d := w.Delay(user); d != 0 {
		t.Errorf("a window later: delay %v, want 0", d)
	}
	w.Began(user)
	w.Forget(user)
	if d := w.Delay(user); d != 0 {
		t.Errorf("forgotten: delay %v, want 0", d)
	}
}

// A burst of events for one key puts it in the queue once, ready at the end of the window.
func TestMapCoalescesABurst(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	w := New(time.Second, clk)
	q := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request](),
		workqueue.TypedRateLimitingQueueConfig[reconcile.Request]{Clock: clk})
	defer q.ShutDown()
	h := w.Map(func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{user} })
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ws", Name: "p"}}
	ctx := context.Background()

	h.Create(ctx, event.CreateEvent{Object: pod}, q)
	if q.Len() != 1 {
		t.Fatalf("the first event: %d keys queued, want 1 at once", q.Len())
	}
	got, _ := q.Get()
	w.Began(user)()
	q.Done(got)
	for range 100 {
		h.Update(ctx, event.UpdateEvent{ObjectOld: pod, ObjectNew: pod}, q)
	}
	if q.Len() != 0 {
		t.Fatalf("a burst within the window: %d keys queued at once, want 0", q.Len())
	}
	clk.Step(time.Second)
	if !waitLen(q, 1) {
		t.Fatalf("at the end of the window: %d keys queued, want the one key once", q.Len())
	}
}

// waitLen waits (the delaying queue moves ready keys on its own goroutine) until q holds n keys.
func waitLen(q workqueue.TypedRateLimitingInterface[reconcile.Request], n int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if q.Len() == n {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

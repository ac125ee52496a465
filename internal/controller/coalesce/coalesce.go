// Package coalesce spaces out a controller's reconciles of one key when its events come in
// bursts. A key whose objects change a hundred times a second (a user's thousands of pods
// starting, every workload of the zone) is reconciled at once on its first event, and then
// at most once per window however many events follow: each reconcile reads everything
// anew, so the last one sees every change the skipped ones would have.
package coalesce

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Window is the least time between two reconciles of a key that events ask for: every, or
// ten times what the key's last reconcile took if that is longer, so that a key however
// costly takes at most a tenth of a worker. The reconciler calls Began at the start of each
// reconcile of a key (and what it returns at the end), and Forget once the key is gone; Map
// makes the event handler that honours it.
type Window struct {
	every time.Duration
	clock clock.PassiveClock
	// last holds each key's last reconcile (reconcile.Request -> run).
	last sync.Map
}

// run is when a reconcile began and how long it took.
type run struct {
	began time.Time
	took  time.Duration
}

// costShare is how many times its own length a reconcile keeps the next one away.
const costShare = 10

// New returns a Window of every, on clk (clock.RealClock{} outside tests).
func New(every time.Duration, clk clock.PassiveClock) *Window {
	return &Window{every: every, clock: clk}
}

// Began records that a reconcile of req begins now; the function it returns records that
// it ended.
func (w *Window) Began(req reconcile.Request) func() {
	began := w.clock.Now()
	w.last.Store(req, run{began: began})
	return func() { w.last.Store(req, run{began: began, took: w.clock.Since(began)}) }
}

// Forget drops what is known of req (its object is gone).
func (w *Window) Forget(req reconcile.Request) { w.last.Delete(req) }

// Delay is how long an event for req waits: nothing when its last reconcile began a window
// ago or more (or never), else the rest of the window. A key already waiting in the queue
// keeps its earlier time, so a burst of events costs one reconcile per window.
func (w *Window) Delay(req reconcile.Request) time.Duration {
	v, ok := w.last.Load(req)
	if !ok {
		return 0
	}
	last := v.(run)
	return max(0, max(w.every, costShare*last.took)-w.clock.Since(last.began))
}

// Map is handler.EnqueueRequestsFromMapFunc with the window: the requests fn maps an
// event's object (both objects of an update) to are added after their Delay.
func (w *Window) Map(fn handler.MapFunc) handler.EventHandler {
	add := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		seen := map[reconcile.Request]bool{}
		for _, o := range objs {
			if o == nil {
				continue
			}
			for _, req := range fn(ctx, o) {
				if seen[req] {
					continue
				}
				seen[req] = true
				if d := w.Delay(req); d > 0 {
					q.AddAfter(req, d)
				} else {
					q.Add(req)
				}
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object)
		},
	}
}

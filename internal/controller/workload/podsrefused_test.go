package workload

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

func TestPodRetryDelayDoublesUpToFiveMinutes(t *testing.T) {
	cases := []struct {
		refusedFor, want time.Duration
	}{
		{0, 5 * time.Second},
		{2 * time.Second, 5 * time.Second},
		{5 * time.Second, 5 * time.Second},
		{10 * time.Second, 10 * time.Second},
		{40 * time.Second, 40 * time.Second},
		{4 * time.Minute, 4 * time.Minute},
		{5 * time.Minute, 5 * time.Minute},
		{3 * time.Hour, 5 * time.Minute},
		{-time.Minute, 5 * time.Second},
	}
	for _, tc := range cases {
		if got := podRetryDelay(tc.refusedFor); got != tc.want {
			t.Errorf("podRetryDelay(%v) = %v, want %v", tc.refusedFor, got, tc.want)
		}
	}
}

func TestRefusedFor(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	admitted := func(status metav1.ConditionStatus, since time.Duration) doradev1.WorkloadStatus {
		return doradev1.WorkloadStatus{Conditions: []metav1.Condition{{Type: doradev1.WorkloadPodsAdmitted, Status: status,
			Reason: doradev1.ReasonPodsRefused, LastTransitionTime: metav1.NewTime(now.Add(-since))}}}
	}
	cases := map[string]struct {
		before doradev1.WorkloadStatus
		want   time.Duration
	}{
		"a new workload":                 {before: doradev1.WorkloadStatus{}, want: 0},
		"admitted until now":             {before: admitted(metav1.ConditionTrue, time.Hour), want: 0},
		"refused for a minute":           {before: admitted(metav1.ConditionFalse, time.Minute), want: time.Minute},
		"a clock behind the stored time": {before: admitted(metav1.ConditionFalse, -time.Minute), want: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := refusedFor(tc.before, now); got != tc.want {
				t.Errorf("refusedFor = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRefusedByServer(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	cases := map[string]struct {
		err  error
		want bool
	}{
		"quota":               {err: apierrors.NewForbidden(pods, "train-1", errors.New("exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1")), want: true},
		"pod security":        {err: apierrors.NewForbidden(pods, "train-0", errors.New(`violates PodSecurity "restricted:latest"`)), want: true},
		"invalid":             {err: apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "train-0", field.ErrorList{field.Invalid(field.NewPath("spec"), "", "bad")}), want: true},
		"a webhook's refusal": {err: apierrors.NewBadRequest("admission webhook denied the request"), want: true},
		"a timeout":           {err: apierrors.NewTimeoutError("slow", 1)},
		"the server going":    {err: apierrors.NewServiceUnavailable("shutting down")},
		"a conflict":          {err: apierrors.NewConflict(pods, "train-0", errors.New("changed"))},
		"no API error at all": {err: errors.New("connection refused")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := refusedByServer(tc.err); got != tc.want {
				t.Errorf("refusedByServer = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRefusedBlocker(t *testing.T) {
	const quota = `pods "train-1" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1`
	cases := map[string]struct {
		refused []refusal
		want    []string // pieces of the message; nil wants no blocker
	}{
		"nothing refused": {},
		"one pod": {refused: []refusal{{pod: "train-1", message: quota}},
			want: []string{"pod train-1 could not be created: ", "exceeded quota", "ResourceQuota", "at most 5 minutes later"}},
		"two pods, the lowest named first": {refused: []refusal{{pod: "train-2", message: "two"}, {pod: "train-1", message: quota}},
			want: []string{"pod train-1 and 1 more could not be created: ", "exceeded quota"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := refusedBlocker(tc.refused)
			if tc.want == nil {
				if b != nil {
					t.Fatalf("blocker = %+v, want none", b)
				}
				return
			}
			if b == nil || b.reason != doradev1.ReasonPodsRefused {
				t.Fatalf("blocker = %+v, want reason %s", b, doradev1.ReasonPodsRefused)
			}
			for _, piece := range tc.want {
				if !strings.Contains(b.message, piece) {
					t.Errorf("message %q lacks %q", b.message, piece)
				}
			}
		})
	}
}

// A pod create the API server refuses is a condition with its words and a growing pause,
// not an error the work queue would retry at once; the pods it accepts are created.
func TestRefusedPodsBecomeAConditionAndARequeueNotAnError(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	wl := testWorkload(3)
	wl.UID = "train-uid"
	wl.CreationTimestamp = metav1.NewTime(now.Add(-time.Minute))
	var creates int
	c := testclient.NewBuilder().WithObjects(wl).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, ok := obj.(*corev1.Pod); !ok {
				return c.Create(ctx, obj, opts...)
			}
			if creates++; obj.GetName() == "train-0" {
				return c.Create(ctx, obj, opts...)
			}
			return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, obj.GetName(),
				errors.New("exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1"))
		},
	}).Build()
	clk := clocktesting.NewFakePassiveClock(now)
	r := NewReconciler(c, nopRecorder{}, clk, Options{})
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(wl)}

	result, err := r.Reconcile(ctx, req)
	if err != nil {
		t.Fatalf("Reconcile: %v, want no error: a refusal is reported, not retried at once", err)
	}
	if result.RequeueAfter != minPodRetry {
		t.Errorf("RequeueAfter = %v, want %v", result.RequeueAfter, minPodRetry)
	}
	got := &doradev1.Workload{}
	if err := c.Get(ctx, req.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	cond := meta.FindStatusCondition(got.Status.Conditions, doradev1.WorkloadPodsAdmitted)
	if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != doradev1.ReasonPodsRefused ||
		!strings.Contains(cond.Message, "pod train-1 and 1 more could not be created: the API server refused it") || !strings.Contains(cond.Message, "exceeded quota") {
		t.Errorf("PodsAdmitted = %+v, want False/%s with the quota message", cond, doradev1.ReasonPodsRefused)
	}
	if ready := meta.FindStatusCondition(got.Status.Conditions, doradev1.ConditionReady); ready == nil || ready.Reason != doradev1.ReasonPodsRefused {
		t.Errorf("Ready = %+v, want reason %s", ready, doradev1.ReasonPodsRefused)
	}
	if got.Status.Phase != doradev1.WorkloadPhasePending {
		t.Errorf("phase = %s, want Pending", got.Status.Phase)
	}
	if creates != 3 {
		t.Errorf("%d pod creates, want 3", creates)
	}

	// Still refused a minute later: the pause has grown to as long as the refusal.
	refusedSince := cond.LastTransitionTime.Time
	clk.SetTime(refusedSince.Add(time.Minute))
	if result, err = r.Reconcile(ctx, req); err != nil || result.RequeueAfter != time.Minute {
		t.Errorf("second Reconcile = %+v, %v; want RequeueAfter 1m and no error", result, err)
	}
}

// nopRecorder drops events.
type nopRecorder struct{}

func (nopRecorder) Eventf(_, _ runtime.Object, _, _, _, _ string, _ ...any) {}

// A spec no pod can be built from (one the schema should have refused) is told as a
// refusal, with the builder's words, never an error retried at once.
func TestAPodThatCannotBeBuiltIsReportedNotRetriedHot(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	wl := testWorkload(1)
	wl.UID = "train-uid"
	wl.Spec.Config = &doradev1.ContainerConfig{ShmSize: ptr.To(int64(-1))}
	c := testclient.Objects(wl)
	r := NewReconciler(c, nopRecorder{}, clocktesting.NewFakePassiveClock(now), Options{})
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(wl)}
	result, err := r.Reconcile(ctx, req)
	if err != nil || result.RequeueAfter == 0 {
		t.Fatalf("Reconcile: %v, %+v; want no error and a requeue", err, result)
	}
	got := &doradev1.Workload{}
	if err := c.Get(ctx, req.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	cond := meta.FindStatusCondition(got.Status.Conditions, doradev1.WorkloadPodsAdmitted)
	if cond == nil || cond.Reason != doradev1.ReasonPodsRefused || !strings.Contains(cond.Message, "cannot build it from the spec: config.shmSize") {
		t.Errorf("PodsAdmitted = %+v, want PodsRefused naming config.shmSize", cond)
	}
}

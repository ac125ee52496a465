package workload

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

var reset = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)

func userCredit(zone string, exhausted bool) *doradev1.UserCredit {
	return &doradev1.UserCredit{
		ObjectMeta: metav1.ObjectMeta{Name: "amedeo"},
		Spec:       doradev1.UserCreditSpec{User: "amedeo"},
		Status: doradev1.UserCreditStatus{Zones: []doradev1.ZoneCredits{
			{Zone: zone, Exhausted: exhausted, NextReset: &metav1.Time{Time: reset}},
		}},
	}
}

func TestHeldBy(t *testing.T) {
	cases := map[string]struct {
		uc   *doradev1.UserCredit
		held bool
	}{
		"no UserCredit":                       {},
		"credits left":                        {uc: userCredit("z", false)},
		"spent in this zone":                  {uc: userCredit("z", true), held: true},
		"spent in another zone holds nothing": {uc: userCredit("other", true)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := heldBy(tc.uc, "z")
			if (h != nil) != tc.held {
				t.Fatalf("held = %v, want %v", h != nil, tc.held)
			}
			if h != nil && (h.user != "amedeo" || !h.reset.Equal(reset)) {
				t.Errorf("hold = %+v, want amedeo's until %s", h, reset)
			}
		})
	}
}

func TestSetCreditCondition(t *testing.T) {
	held := &creditHold{user: "amedeo", reset: reset}
	var st doradev1.WorkloadStatus
	setCreditCondition(&st, nil, 1)
	if len(st.Conditions) != 0 {
		t.Errorf("a workload never held got %v: owning one must cost no write", st.Conditions)
	}
	setCreditCondition(&st, held, 1)
	c := meta.FindStatusCondition(st.Conditions, doradev1.CreditsExhausted)
	if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "2026-12-06T00:00:00Z") {
		t.Errorf("held: %+v, want True with the reset time", c)
	}
	setCreditCondition(&st, nil, 1)
	if c := meta.FindStatusCondition(st.Conditions, doradev1.CreditsExhausted); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("released: %+v, want False", c)
	}
}

// A held workload loses its pods as a paused one does, keeps spec.paused as the user wrote
// it, stays held when the user resumes it, and comes back once the credits do.
func TestCreditHoldRemovesPodsUntilTheCreditsComeBack(t *testing.T) {
	ctx := context.Background()
	wl := testWorkload(2, func(wl *doradev1.Workload) {
		wl.Annotations = map[string]string{doradev1.AnnotationOwner: "amedeo"}
		wl.UID = "train-uid"
	})
	uc := userCredit("z", false)
	c := testclient.Objects(wl, uc)
	r := NewReconciler(c, nopRecorder{}, clocktesting.NewFakePassiveClock(reset.Add(-time.Hour)), Options{Zone: "z"})
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(wl)}
	reconcile := func() *doradev1.Workload {
		t.Helper()
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatal(err)
		}
		got := &doradev1.Workload{}
		if err := c.Get(ctx, req.NamespacedName, got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	livePods := func() int {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace("team")); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil {
				n++
			}
		}
		return n
	}
	setExhausted := func(exhausted bool) {
		t.Helper()
		_ = c.Get(ctx, client.ObjectKeyFromObject(uc), uc)
		uc.Status.Zones[0].Exhausted = exhausted
		if err := c.Status().Update(ctx, uc); err != nil {
			t.Fatal(err)
		}
	}

	if got := reconcile(); livePods() != 2 || meta.FindStatusCondition(got.Status.Conditions, doradev1.CreditsExhausted) != nil {
		t.Fatalf("with credits: %d pods, conditions %v; want 2 and no CreditsExhausted", livePods(), got.Status.Conditions)
	}
	// Finalizers keep deleted pods in the fake client; the credit controller would release
	// them. Take them away so that the pods can go.
	var pods corev1.PodList
	_ = c.List(ctx, &pods)
	for i := range pods.Items {
		pods.Items[i].Finalizers = nil
		_ = c.Update(ctx, &pods.Items[i])
	}

	setExhausted(true)
	got := reconcile()
	if n := livePods(); n != 0 {
		t.Errorf("held: %d pods, want 0", n)
	}
	if cond := meta.FindStatusCondition(got.Status.Conditions, doradev1.CreditsExhausted); cond == nil || cond.Status != metav1.ConditionTrue {
		t.Errorf("CreditsExhausted = %+v, want True", cond)
	}
	if got.Spec.Paused {
		t.Error("spec.paused was written: a hold never touches it")
	}
	if n := testutil.ToFloat64(r.HeldMetric()); n != 1 {
		t.Errorf("dora_workloads_held = %v while held, want 1", n)
	}

	// The user pauses and resumes: still held.
	got.Spec.Paused = true
	_ = c.Update(ctx, got)
	got = reconcile()
	got.Spec.Paused = false
	_ = c.Update(ctx, got)
	if reconcile(); livePods() != 0 {
		t.Errorf("resumed while held: %d pods, want 0", livePods())
	}

	// The budget is raised: the credit controller says not exhausted, the pods come back.
	setExhausted(false)
	got = reconcile()
	if n := livePods(); n != 2 {
		t.Errorf("released: %d pods, want 2", n)
	}
	if n := testutil.ToFloat64(r.HeldMetric()); n != 0 {
		t.Errorf("dora_workloads_held = %v once released, want 0", n)
	}
	if cond := meta.FindStatusCondition(got.Status.Conditions, doradev1.CreditsExhausted); cond == nil || cond.Status != metav1.ConditionFalse {
		t.Errorf("CreditsExhausted = %+v, want False", cond)
	}
}

// Safe mode starts a workload only if its owner can pay for all of it: its GPUs x the
// highest price of the models it may get x its maxRunTime (else the time to the reset),
// against what is left now (the status's remaining less the burn since asOf).
func TestSafeHold(t *testing.T) {
	now := reset.Add(-10 * time.Hour)
	asOf := metav1.NewTime(now.Add(-time.Hour))
	uc := func(weekly, remaining, rate doradev1.Amount) *doradev1.UserCredit {
		u := userCredit("z", false)
		u.Status.Zones[0].Weekly, u.Status.Zones[0].Remaining, u.Status.Zones[0].BurnRatePerHour = weekly, remaining, rate
		u.Status.Zones[0].AsOf = &asOf
		return u
	}
	price := func(product string, perHour doradev1.Amount) doradev1.ResourceCredit {
		return doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(product)},
			Spec: doradev1.ResourceCreditSpec{ProductName: product, Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: perHour}}}}
	}
	prices := []doradev1.ResourceCredit{price("V100", "1"), price("A100", "3")}
	gpuWorkload := func(models []string, maxRunTime string) *doradev1.Workload {
		return testWorkload(2, func(wl *doradev1.Workload) {
			wl.Annotations = map[string]string{doradev1.AnnotationOwner: "amedeo"}
			count := intstr.FromInt32(2)
			wl.Spec.Selectors.GPU = &doradev1.GPUSelector{ProductName: doradev1.StringOrList{Values: models}, Count: &count}
			if maxRunTime != "" {
				wl.Spec.Config = &doradev1.ContainerConfig{MaxRunTime: maxRunTime}
			}
		})
	}
	cases := []struct {
		name    string
		wl      *doradev1.Workload
		uc      *doradev1.UserCredit
		held    bool
		message string
	}{
		{"4 V100s for 2 h cost 8: 8 left fits", gpuWorkload([]string{"V100"}, "2h"), uc("100", "8", "0"), false, ""},
		{"4 V100s for 2 h cost 8: 7 left does not", gpuWorkload([]string{"V100"}, "2h"), uc("100", "7", "0"), true,
			"4 GPUs at up to 1.00 credits per GPU-hour for 2h0m0s may cost 8.00 credits, more than the 7.00 amedeo has left"},
		{"the burn since asOf counts: 10 left an hour ago at 4 an hour is 6", gpuWorkload([]string{"V100"}, "2h"), uc("100", "10", "4"), true, "more than the 6.00 amedeo"},
		{"either model: the dearer one is assumed", gpuWorkload([]string{"V100", "A100"}, "1h"), uc("100", "11", "0"), true, "up to 3.00 credits per GPU-hour"},
		{"All: the dearest price of all", gpuWorkload([]string{doradev1.All}, "1h"), uc("100", "12", "0"), false, ""},
		{"no maxRunTime: until the reset, 10 h", gpuWorkload([]string{"V100"}, ""), uc("100", "39", "0"), true, "for 10h0m0s may cost 40.00"},
		{"no budget in this zone: metered, never held", gpuWorkload([]string{"A100"}, ""), uc("", "", "0"), false, ""},
		{"an unpriced model costs nothing", gpuWorkload([]string{"T4"}, ""), uc("100", "0", "0"), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := safeHold(tc.wl, tc.uc, "z", prices, now)
			if (h != nil) != tc.held {
				t.Fatalf("held = %v, want %v (%+v)", h != nil, tc.held, h)
			}
			if h == nil {
				return
			}
			var st doradev1.WorkloadStatus
			setCreditCondition(&st, h, 1)
			c := meta.FindStatusCondition(st.Conditions, doradev1.CreditsExhausted)
			if c.Reason != doradev1.ReasonWouldExceedBudget || !strings.Contains(c.Message, tc.message) || !strings.Contains(c.Message, "2026-12-06T00:00:00Z") {
				t.Errorf("condition %s %q, want %s containing %q and the reset", c.Reason, c.Message, doradev1.ReasonWouldExceedBudget, tc.message)
			}
		})
	}
}

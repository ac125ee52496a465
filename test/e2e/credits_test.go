package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	apiwatch "k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// podTimes records, from a watch, each pod's own start (its container's startedAt) and end
// (its deletion time, the last the API server said): the truth the ledger must match.
type podTimes struct {
	mu         sync.Mutex
	start, end map[types.UID]time.Time
}

func watchPodTimes(t *testing.T, namespace string) *podTimes {
	t.Helper()
	wc, err := client.NewWithWatch(testEnv.Cluster.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(context.Background(), &corev1.PodList{}, client.InNamespace(namespace))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	pt := &podTimes{start: map[types.UID]time.Time{}, end: map[types.UID]time.Time{}}
	go func() {
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == apiwatch.Error {
				continue
			}
			pt.mu.Lock()
			for _, s := range pod.Status.ContainerStatuses {
				if s.State.Running != nil {
					pt.start[pod.UID] = s.State.Running.StartedAt.Time
				}
			}
			if pod.DeletionTimestamp != nil {
				pt.end[pod.UID] = pod.DeletionTimestamp.Time
			}
			pt.mu.Unlock()
		}
	}()
	return pt
}

// gpuSeconds is the pods' GPUs x seconds, from their own times, in whole seconds.
func (pt *podTimes) gpuSeconds(gpus int64) (total int64, ended int) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	for uid, start := range pt.start {
		if end, ok := pt.end[uid]; ok {
			total += gpus * (end.Unix() - start.Unix())
			ended++
		}
	}
	return total, ended
}

// A price and a budget that a 2 x 2-GPU workload spends in about 30 s: 3600 credits per
// GPU-hour is one credit a GPU-second, four a second for the workload, and the budget is
// 120. The workload is held at the predicted second (pods gone, CreditsExhausted), the
// charge is the pods' own time to within a second, and a larger budget brings it back.
func TestAWorkloadIsHeldAtThePredictedSecondWhenItsOwnerRunsOutOfCredits(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const (
		zone    = "dc-rov-01"
		user    = "credits.user"
		product = "NVIDIA H100 80GB HBM3"
		gpus    = 4 // 2 replicas x 2 GPUs
	)
	create := func(obj client.Object) {
		t.Helper()
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, obj) })
	}
	create(&doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "h100-credits"},
		Spec: doradev1.ResourceCreditSpec{ProductName: product, Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: "3600"}}}})
	create(&doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "credits-researcher"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workload": {"Apply", "Delete", "Get", "Describe", "Pause", "Event", "Version"},
	}}})
	ns := workspace(t, user)
	create(&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: user}, Spec: doradev1.UserSpec{
		Resources: []doradev1.RoleBinding{{Kind: "All", Zone: "All", Workspace: user, Role: "credits-researcher"}},
		Credits:   []doradev1.WeeklyCredits{{Zone: zone, Weekly: "120"}},
	}})
	researcher := as(t, user)
	g.Eventually(func() error { return researcher.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(ns)) }).
		WithTimeout(30*time.Second).Should(Succeed(), "the user's bindings are made")
	times := watchPodTimes(t, ns)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		uc, rc, pods := &doradev1.UserCredit{}, &doradev1.ResourceCredit{}, &corev1.PodList{}
		_ = k8sClient.Get(ctx, client.ObjectKey{Name: user}, uc)
		_ = k8sClient.Get(ctx, client.ObjectKey{Name: "h100-credits"}, rc)
		_ = k8sClient.List(ctx, pods, client.InNamespace(ns))
		t.Logf("UserCredit status: %+v", uc.Status)
		t.Logf("ResourceCredit status: %+v", rc.Status)
		for _, p := range pods.Items {
			t.Logf("pod %s on %s: annotations %v finalizers %v deletion %v statuses %+v", p.Name, p.Spec.NodeName, p.Annotations, p.Finalizers, p.DeletionTimestamp, p.Status.ContainerStatuses)
		}
	})

	g.Eventually(func(g Gomega) {
		dn := &doradev1.Node{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "h100-0"}, dn)).To(Succeed())
		g.Expect(dn.Status.GPUs).NotTo(BeEmpty())
	}).WithTimeout(30*time.Second).Should(Succeed(), "the H100 node's agent reports its GPUs")

	wl := gpuWorkload(ns, "burn", 2, 2, product)
	g.Expect(researcher.Create(ctx, wl)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, wl) })
	g.Expect(wl.Annotations[doradev1.AnnotationOwner]).To(Equal(user), "the webhook stamps the owner")

	credit := func(g Gomega) doradev1.ZoneCredits {
		uc := &doradev1.UserCredit{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: user}, uc)).To(Succeed())
		for _, z := range uc.Status.Zones {
			if z.Zone == zone {
				return z
			}
		}
		g.Expect(uc.Status.Zones).To(ContainElement(HaveField("Zone", zone)))
		return doradev1.ZoneCredits{}
	}
	var predicted time.Time
	g.Eventually(func(g Gomega) {
		z := credit(g)
		g.Expect(z.BurnRatePerHour).To(Equal(doradev1.Amount("14400")), "both pods run: 4 GPUs at 3600 an hour")
		g.Expect(z.ExhaustsAt).NotTo(BeNil())
		predicted = z.ExhaustsAt.Time
	}).WithTimeout(60*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(), "the UserCredit predicts when the budget runs out")
	t.Logf("predicted exhaustion at %s", predicted.Format(time.RFC3339))
	g.Expect(time.Until(predicted)).To(BeNumerically("<", 40*time.Second))

	var heldAt time.Time
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.CreditsExhausted)).To(BeTrue())
		g.Expect(workloadPods(g, wl)).To(BeEmpty())
		heldAt = time.Now()
	}).WithTimeout(60*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "the workload is held: pods gone, CreditsExhausted")
	t.Logf("held (pods gone) at %s, %s after the prediction", heldAt.Format(time.RFC3339Nano), heldAt.Sub(predicted))
	g.Expect(heldAt.Sub(predicted)).To(BeNumerically("<", 3*time.Second), "held within a couple of seconds of the predicted time")
	g.Expect(heldAt.Sub(predicted)).To(BeNumerically(">", -time.Second), "not held before the budget was spent")
	g.Expect(wl.Spec.Paused).To(BeFalse(), "the hold never writes spec.paused")
	g.Expect(meta.FindStatusCondition(wl.Status.Conditions, doradev1.CreditsExhausted).Message).To(ContainSubstring(credit(g).NextReset.UTC().Format(time.RFC3339)))

	// The charge: the ledger's GPU-seconds against the pods' own times.
	g.Eventually(func(g Gomega) {
		z := credit(g)
		g.Expect(z.Exhausted).To(BeTrue())
		g.Expect(z.Ledger.Closed).To(HaveLen(2))
		truth, ended := times.gpuSeconds(gpus / 2)
		g.Expect(ended).To(Equal(2))
		var charged int64
		for _, e := range z.Ledger.Entries {
			charged += e.GPUSeconds
		}
		t.Logf("charged %d GPU-seconds, the pods' own times say %d", charged, truth)
		g.Expect(charged).To(BeNumerically("~", truth, gpus), "within a second's worth (4 GPU-seconds) of the truth")
	}).WithTimeout(20*time.Second).Should(Succeed(), "every pod is closed into the ledger")

	// Raising the budget brings the pods back.
	u := &doradev1.User{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: user}, u)).To(Succeed())
	u.Spec.Credits[0].Weekly = "100000"
	g.Expect(k8sClient.Update(ctx, u)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(meta.IsStatusConditionFalse(wl.Status.Conditions, doradev1.CreditsExhausted)).To(BeTrue())
		pods := workloadPods(g, wl)
		g.Expect(pods).To(HaveLen(2))
		for _, p := range pods {
			g.Expect(p.Labels[podspec.LabelWorkload]).To(Equal(naming.WorkloadLabelValue(wl.Name)))
		}
	}).WithTimeout(60*time.Second).Should(Succeed(), "a larger budget releases the hold")
}
